"""What customers reach without an agent's sign-in: the satisfaction survey."""
