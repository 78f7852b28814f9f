"""Transports between the help desk and the outside world (email today; chat and social next).

A leaf package: it imports nothing from ``inbox`` or ``workers``. Callers pick a connector by
channel kind instead of branching on it::

    receipt = connectors.get(channel.kind).deliver(config, outbound)

and handle exactly two errors, :class:`TransientConnectorError` (retry later) and
:class:`PermanentConnectorError` (give up, tell someone).
"""

from connectors.base import Connector, Outbound
from connectors.email import EmailConnector
from connectors.errors import ConnectorError, PermanentConnectorError, TransientConnectorError

_REGISTRY: dict[str, Connector] = {connector.kind: connector for connector in (EmailConnector(),)}


def get(kind: str) -> Connector:
    """The connector for channel ``kind``; ``LookupError`` for a kind nobody implemented."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise LookupError(f"no connector for channel kind {kind!r} (known: {known})") from None


__all__ = [
    "Connector",
    "ConnectorError",
    "EmailConnector",
    "Outbound",
    "PermanentConnectorError",
    "TransientConnectorError",
    "get",
]
