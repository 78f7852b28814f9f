"""Telegram Bot API: long polling of ``getUpdates``, ``sendMessage``, files by ``getFile``."""

from connectors.telegram.connector import TelegramConnector

__all__ = ["TelegramConnector"]
