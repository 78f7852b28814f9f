"""The email channel as the rest of the application sees it: ``connectors.get("email")``.

It turns a channel's configuration (the decrypted ``smtp_url`` / ``imap_url`` strings) into a
sender or a pulled folder, and reports a broken configuration as a permanent connector error
so the outbox marks the item failed instead of retrying it forever. Mail is pulled, never
pushed.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import DeliveryReport, Outbound, PushReceiver
from connectors.email.imap import ImapMailbox
from connectors.email.pull import ImapPull
from connectors.email.smtp import EmailSender, SmtpSession
from connectors.email.urls import MailProtocol, MailServerURL, parse_mail_url
from connectors.errors import PermanentConnectorError


class EmailConnector:
    """Stateless: one instance serves every email channel."""

    kind = "email"
    pulled = True
    push: PushReceiver | None = None

    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> DeliveryReport:
        """Send ``outbound.payload`` as is, with ``outbound.sender`` as the envelope sender."""
        session = self.open_session(config)
        try:
            return session.deliver(outbound)
        finally:
            session.close()

    def open_session(self, config: Mapping[str, str]) -> EmailDeliveries:
        url = _configured_url(config, "smtp_url", "smtp")
        return EmailDeliveries(EmailSender(url, timeout=self.timeout).session())

    def mailbox(self, config: Mapping[str, str]) -> ImapMailbox:
        """An unopened session on the channel's IMAP folder."""
        return ImapMailbox(_configured_url(config, "imap_url", "imap"), timeout=self.timeout)

    def open_pull(self, config: Mapping[str, str]) -> ImapPull:
        """The folder as a pulled channel; opened by ``with``."""
        return ImapPull(self.mailbox(config))


class EmailDeliveries:
    """Messages of one channel over one SMTP connection."""

    def __init__(self, session: SmtpSession) -> None:
        self.session = session

    def deliver(self, outbound: Outbound) -> DeliveryReport:
        """SMTP says no more than that the next server took the mail: ``sent``."""
        reply = self.session.send(
            outbound.payload, mail_from=outbound.sender, recipients=outbound.recipients
        )
        return DeliveryReport("sent", detail=reply)

    def close(self) -> None:
        self.session.close()


def _configured_url(config: Mapping[str, str], key: str, protocol: MailProtocol) -> MailServerURL:
    value = config.get(key)
    if not value:
        raise PermanentConnectorError(f"email channel configuration has no {key}")
    try:
        return parse_mail_url(value, protocol=protocol)
    except ValueError as exc:  # the message never repeats the URL, so it is safe to keep
        raise PermanentConnectorError(f"email channel {key} is invalid: {exc}") from None
