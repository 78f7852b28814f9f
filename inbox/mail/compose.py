"""Building outbound mail: pure functions from values to RFC 5322 bytes.

Names and subjects come from outside (customers write them); every header
value is flattened to one line first, and the email package refuses anything
that would still add a header or a recipient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_URLISH = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://\S+|www\.\S+|\S+\.(?:com|net|org|io|ru|info|biz|xyz|top|link|click)\b\S*)"
)


def one_line(value: str, limit: int = 200) -> str:
    """CR, LF, NUL and other controls become spaces: no header or recipient injection."""
    return _CONTROL.sub(" ", value).strip()[:limit]


def without_links(value: str) -> str:
    """Text from a stranger, echoed in an automatic mail, loses anything that looks like a link."""
    return _URLISH.sub("[link removed]", value)


@dataclass(frozen=True)
class OutboundMail:
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    reply_to: str
    subject: str
    body_text: str
    message_id: str
    date: datetime
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None


def _address(name: str, address: str) -> Address:
    local, _, domain = address.partition("@")
    return Address(display_name=one_line(name), username=local, domain=domain)


def build_message(mail: OutboundMail) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(mail.from_name, mail.from_address)
    msg["To"] = _address(mail.to_name, mail.to_address)
    msg["Reply-To"] = _address(mail.from_name, mail.reply_to)
    msg["Subject"] = one_line(mail.subject, 400)
    msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    refs = [*mail.references[-10:]]
    if mail.in_reply_to and mail.in_reply_to not in refs:
        refs.append(mail.in_reply_to)
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    if mail.auto_submitted:
        msg["Auto-Submitted"] = mail.auto_submitted
        # Asks Exchange not to answer with out-of-office replies: no mail ping-pong.
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.body_text)
    return msg.as_bytes()


def tagged_subject(reference: str, subject: str, *, reply: bool = False) -> str:
    """``[REF] subject``, keeping one tag and at most one ``Re:``."""
    clean = one_line(subject, 300)
    clean = re.sub(r"\[\s*" + re.escape(reference) + r"\s*\]", "", clean, flags=re.I).strip()
    clean = re.sub(r"^(?:(?:re|aw|sv|fw|fwd|wg)\s*:\s*)+", "", clean, flags=re.I).strip()
    tagged = f"[{reference}] {clean}".strip()
    return f"Re: {tagged}" if reply else tagged
