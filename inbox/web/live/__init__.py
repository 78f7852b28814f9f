"""The live area: the ``/live`` websocket, what it pushes, and who is viewing or typing; and
the customer portal's own socket, ``/portal/live`` (``portal``)."""
