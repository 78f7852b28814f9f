"""Webhooks the platforms call: no agent session, no CSRF token; the platform's signature
over the raw body is the only key."""

from inbox.web.webhooks.meta import MetaWebhookPages

__all__ = ["MetaWebhookPages"]
