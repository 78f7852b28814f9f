"""Litestar controllers, htmx fragments and the REST API: the web edge."""
