"""The live area: the ``/live`` websocket, what it pushes, and who is viewing or typing."""
