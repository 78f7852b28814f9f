"""Building outbound mail: pure functions from values to RFC 5322 bytes.

Names and subjects come from outside (customers write them); every header
value is flattened to one line first, and an address is written only when it
cannot carry a second header or recipient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import encode_rfc2231, format_datetime, formataddr

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


# What may stand in an address we write: no spaces, controls, quotes, brackets or separators.
_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>()\[\]\\,;:\"@]+@[^\s\x00-\x1f\x7f<>()\[\]\\,;:\"@]+")


def _address(name: str, address: str) -> str:
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an address we can write: {address!r}")
    return formataddr((one_line(name), address), charset="utf-8")


def _header(name: str, value: str) -> bytes:
    """One header, folded; RFC 2047 encoded words when the value is not ASCII."""
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode("ascii")
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n".encode("ascii")


def build_message(mail: OutboundMail) -> bytes:
    """A single-part text/plain mail, UTF-8 in quoted-printable, CRLF line ends.

    Built by hand rather than through ``email.message``: this runs once per acknowledgement,
    and the header registry costs twenty times as much as the mail is worth.
    """
    refs = [*mail.references[-10:]]
    if mail.in_reply_to and mail.in_reply_to not in refs:
        refs.append(mail.in_reply_to)
    headers = [
        _header("From", _address(mail.from_name, mail.from_address)),
        _header("To", _address(mail.to_name, mail.to_address)),
        _header("Reply-To", _address(mail.from_name, mail.reply_to)),
        _header("Subject", one_line(mail.subject, 400)),
        _header("Date", format_datetime(mail.date)),
        _header("Message-ID", f"<{one_line(mail.message_id)}>"),
    ]
    if mail.in_reply_to:
        headers.append(_header("In-Reply-To", f"<{one_line(mail.in_reply_to)}>"))
    if refs:
        headers.append(_header("References", " ".join(f"<{one_line(r)}>" for r in refs)))
    if mail.auto_submitted:
        headers.append(_header("Auto-Submitted", one_line(mail.auto_submitted)))
        # Asks Exchange not to answer with out-of-office replies: no mail ping-pong.
        headers.append(b"X-Auto-Response-Suppress: All\r\n")
    headers += [
        b"MIME-Version: 1.0\r\n",
        b'Content-Type: text/plain; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: quoted-printable\r\n",
    ]
    text = "\r\n".join(mail.body_text.splitlines()) + "\r\n"
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return b"".join(headers) + b"\r\n" + body


@dataclass(frozen=True)
class MailFile:
    """A file a mail carries: its name is display text (cleaned where it was taken in), its
    type what its bytes were recognised as."""

    filename: str
    content_type: str
    data: bytes


_BODY_TYPE = (b"content-type:", b"content-transfer-encoding:")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9!#$&+.^_`|~-]+/[A-Za-z0-9!#$&+.^_`|~-]+")


def with_attachments(mail: bytes, files: Sequence[MailFile]) -> bytes:
    """The single-part mail ``build_message`` made, as multipart/mixed: its text first, then
    each file as a base64 attachment. The same mail and files give the same bytes (the
    boundary comes from them), so a resend is the mail sent before."""
    if not files:
        return mail
    head, _, body = mail.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(_BODY_TYPE)]
    text_head = [line for line in lines if line.lower().startswith(_BODY_TYPE)]
    digest = hashlib.sha256(mail)
    for file in files:
        digest.update(hashlib.sha256(file.data).digest())
    # "=_" never occurs in base64 or quoted-printable text: no part can contain the boundary.
    boundary = f"=_inbox_{digest.hexdigest()[:32]}".encode()
    parts = [b"\r\n".join(text_head) + b"\r\n\r\n" + body]
    parts += [_attachment_part(file) for file in files]
    multipart = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    headers = [*kept, b'Content-Type: multipart/mixed; boundary="' + boundary + b'"']
    return b"\r\n".join(headers) + b"\r\n\r\n" + multipart + b"--" + boundary + b"--\r\n"


def _attachment_part(file: MailFile) -> bytes:
    content_type = file.content_type if _TOKEN_CHARS.fullmatch(file.content_type) else ""
    name = one_line(file.filename, 255).replace("\\", "_").replace('"', "_") or "attachment"
    if name.isascii():
        disposition = f'attachment; filename="{name}"'
    else:  # RFC 2231: UTF-8, percent-encoded
        disposition = f"attachment; filename*={encode_rfc2231(name, 'utf-8')}"
    encoded = base64.encodebytes(file.data).replace(b"\n", b"\r\n")
    head = (
        f"Content-Type: {content_type or 'application/octet-stream'}\r\n"
        f"Content-Disposition: {disposition}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + encoded.rstrip(b"\r\n")


_TAG = re.compile(r"\[\s*([^\[\]]{1,40}?)\s*\]")
_REPLY_PREFIXES = re.compile(r"^(?:(?:re|aw|sv|fw|fwd|wg)\s*:\s*)+", re.I)


def tagged_subject(reference: str, subject: str, *, reply: bool = False) -> str:
    """``[REF] subject``, keeping one tag and at most one ``Re:``."""
    clean = one_line(subject, 300)
    clean = _TAG.sub(lambda m: "" if m[1].upper() == reference.upper() else m[0], clean).strip()
    clean = _REPLY_PREFIXES.sub("", clean).strip()
    tagged = f"[{reference}] {clean}".strip()
    return f"Re: {tagged}" if reply else tagged
