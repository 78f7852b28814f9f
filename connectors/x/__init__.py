"""X API v2 direct messages: polling ``GET /2/dm_events``, sending to a conversation."""

from connectors.x.connector import XConnector

__all__ = ["XConnector"]
