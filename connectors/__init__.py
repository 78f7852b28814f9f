"""Transports between the help desk and the outside world: email, and the social platforms.

A leaf package: it imports nothing from ``inbox`` or ``workers``. Callers pick a connector by
channel kind instead of branching on it (``connectors.base`` describes the interface)::

    report = connectors.get(channel.kind).deliver(config, outbound)

and handle exactly two errors, :class:`TransientConnectorError` (retry later) and
:class:`PermanentConnectorError` (give up, tell someone).
"""

from connectors.base import (
    Connector,
    DeliveryReport,
    Outbound,
    Pulled,
    PullSession,
    PushReceiver,
    RawInbound,
)
from connectors.email import EmailConnector
from connectors.errors import (
    ConnectorError,
    CredentialsRefused,
    PermanentConnectorError,
    TransientConnectorError,
)
from connectors.meta import MetaConnector
from connectors.telegram import TelegramConnector
from connectors.x import XConnector

_REGISTRY: dict[str, Connector] = {
    connector.kind: connector
    for connector in (
        EmailConnector(),
        TelegramConnector(),
        MetaConnector("messenger", "page_id"),
        MetaConnector("instagram", "account_id"),
        MetaConnector("whatsapp", "phone_number_id"),
        XConnector(),
    )
}
# The kinds Meta pushes to its one webhook, /webhooks/meta.
META_KINDS = ("messenger", "instagram", "whatsapp")
# The kinds whose channels may be pushed to, one event per post: Meta's, and a Telegram bot
# set to a webhook.
PUSHED_KINDS = (*META_KINDS, "telegram")


def get(kind: str) -> Connector:
    """The connector for channel ``kind``; ``LookupError`` for a kind nobody implemented."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise LookupError(f"no connector for channel kind {kind!r} (known: {known})") from None


def pulled_kinds() -> list[str]:
    """The channel kinds whose connector reads by pulling, for the watchers to look after."""
    return sorted(kind for kind, connector in _REGISTRY.items() if connector.pulled)


__all__ = [
    "META_KINDS",
    "PUSHED_KINDS",
    "Connector",
    "ConnectorError",
    "CredentialsRefused",
    "DeliveryReport",
    "EmailConnector",
    "Outbound",
    "PermanentConnectorError",
    "PullSession",
    "Pulled",
    "PushReceiver",
    "RawInbound",
    "TransientConnectorError",
    "get",
]
