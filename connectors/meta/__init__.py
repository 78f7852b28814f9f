"""Meta's platforms: Messenger, Instagram and WhatsApp Cloud API, one signed webhook for all
three, and the Graph API's send endpoints."""

from connectors.meta.connector import MetaConnector, Routed
from connectors.meta.webhook import MetaWebhook, signature_of

__all__ = ["MetaConnector", "MetaWebhook", "Routed", "signature_of"]
