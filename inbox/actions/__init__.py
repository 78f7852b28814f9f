"""Every write, as a named function. Actions flush and record events; they never commit."""
