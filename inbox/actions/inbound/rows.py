"""What an inbound mail writes when it is filed (its message row and attachment rows) and
what the mail itself decides: whether it is our own mail come back, whether it may be
answered automatically, and whether its sender was authenticated."""

from __future__ import annotations

from datetime import datetime

from inbox.actions.rows import Row
from inbox.blobs import BlobStore
from inbox.mail.inbound import InboundMail
from inbox.mail.parse import ParsedMail
from inbox.models import Channel
from inbox.models.kinds import Direction, MessageKind
from inbox.rules.auto_reply import may_answer_automatically
from inbox.settings import Settings
from inbox.signing import verify_message_id


def message_row(
    channel: Channel,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    ticket_id: int,
    identity_id: int | None,
    thread_reason: str,
    now: datetime,
) -> Row:
    return {
        "ticket_id": ticket_id,
        "kind": MessageKind.EMAIL,
        "direction": Direction.INBOUND,
        "channel_id": channel.id,
        "channel_kind": channel.kind,
        "author_identity_id": identity_id,
        "author_label": _author_label(parsed),
        "subject": parsed.subject,
        "body_text": _body_text(parsed, mail),
        "display_text": _display_text(parsed, mail),
        "body_html": parsed.html,
        "external_id": mail.external_id,
        "inbound_item_id": mail.item_id,
        "thread_reason": thread_reason,
        "verification": _verification(channel, parsed),
        "is_automatic": parsed.is_auto_reply or parsed.is_bulk,
        "created_at": now,
    }


def attachment_rows(blobs: BlobStore, message_id: int, parsed: ParsedMail) -> list[Row]:
    return [
        {
            "message_id": message_id,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": len(attachment.data),
            "content_hash": blobs.put(attachment.data),
            "content_id": attachment.content_id,
            "inline": attachment.inline,
        }
        for attachment in parsed.attachments
    ]


def loop_reason(settings: Settings, channel: Channel, parsed: ParsedMail) -> str:
    if parsed.message_id and verify_message_id(settings.secret_key, parsed.message_id) is not None:
        return "our own mail came back"
    if parsed.from_address and parsed.from_address == channel.address:
        return "sent from the channel's own address"
    return ""


def may_acknowledge(parsed: ParsedMail, undeliverable: bool) -> bool:
    """Never answer what ``may_answer_automatically`` refuses, nor an address that bounced.
    (The cap of answers per sender is the batch's to count.)"""
    return may_answer_automatically(parsed) and not undeliverable


def _verification(channel: Channel, parsed: ParsedMail) -> str:
    """Authentication-Results count only when written by the server this channel trusts."""
    trusted = str(channel.config.get("trusted_authserv_id", "")).lower()
    if trusted and any(
        r.authserv_id == trusted and r.method == "dmarc" and r.result == "pass"
        for r in parsed.auth_results
    ):
        return "authenticated"
    return "unverified"


def _author_label(parsed: ParsedMail) -> str:
    if parsed.from_name and parsed.from_address:
        return f"{parsed.from_name} <{parsed.from_address}>"[:400]
    return (parsed.from_address or parsed.from_name or "unknown sender")[:400]


def _oversize_note(mail: InboundMail) -> str:
    return (
        f"This mail was {mail.size / 1_048_576:.1f} MB, over the size limit, so only its headers "
        "were downloaded. The full mail is still in the mailbox."
    )


def _body_text(parsed: ParsedMail, mail: InboundMail) -> str:
    return _oversize_note(mail) if mail.truncated else parsed.text


def _display_text(parsed: ParsedMail, mail: InboundMail) -> str:
    return _oversize_note(mail) if mail.truncated else parsed.new_text
