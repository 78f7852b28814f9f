"""Webhooks the platforms call: no agent session, no CSRF token; the platform's signature
over the raw body (Meta), or the secret token the desk gave it (Telegram), is the only key."""

from inbox.web.webhooks.meta import MetaWebhookPages
from inbox.web.webhooks.telegram import (
    TelegramWebhookPages,
    use_telegram_polling,
    use_telegram_webhook,
)

__all__ = [
    "MetaWebhookPages",
    "TelegramWebhookPages",
    "use_telegram_polling",
    "use_telegram_webhook",
]
