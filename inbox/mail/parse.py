"""Parsing raw mail into what the desk needs: pure, bounded, never crashing on bad input."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from inbox.mail.quotes import strip_quoted
from inbox.mail.sanitize import html_to_text, sanitize_html

MAX_PARTS = 200
MAX_DEPTH = 10
MAX_HTML_CHARS = 2_000_000
MAX_FORWARD_DEPTH = 3
_MSGID = re.compile(r"<([^<>\s]{1,900})>")


class UnparseableMail(Exception):
    """Raw bytes that are not a mail at all (no header block, binary garbage)."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


@dataclass(frozen=True)
class AuthResult:
    authserv_id: str
    method: str
    result: str


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_address: str | None
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    return_path: str | None
    date: datetime | None
    text: str
    new_text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    auto_submitted: str | None
    is_auto_reply: bool
    is_bulk: bool
    is_bounce: bool
    bounce_recipients: tuple[str, ...]
    bounce_original_message_id: str | None
    auth_results: tuple[AuthResult, ...]
    forwarded: tuple[ParsedMail, ...]
    defects: tuple[str, ...]
    headers_only: bool


def _looks_like_mail(raw: bytes) -> bool:
    head = raw[:4096]
    if not head.strip():
        return False
    if head.count(b"\x00") > len(head) // 20:
        return False
    first_line = head.split(b"\n", 1)[0]
    return b":" in first_line and re.match(rb"^[!-9;-~]+:", first_line) is not None


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot even represent
        return ""
    if value is None:
        return ""
    return _one_line(str(value))


def _one_line(value: str, limit: int = 998) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()[:limit]


def _ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.strip() for m in _MSGID.findall(value)))[:100]


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    values = []
    try:
        headers = msg.get_all(name) or []
    except Exception:
        return ()
    for _name, address in getaddresses([str(h) for h in headers]):
        address = address.strip().lower()
        if "@" in address and len(address) <= 320:
            values.append(address)
    return tuple(dict.fromkeys(values))[:100]


def _from(msg: Message) -> tuple[str, str | None]:
    raw = _header(msg, "From")
    if not raw:
        return "", None
    addresses: tuple[Address, ...] = ()
    with contextlib.suppress(Exception):  # a From header the policy cannot model: fall back
        addresses = getattr(msg["From"], "addresses", ())
    if addresses:
        first = addresses[0]
        address = first.addr_spec.lower() if "@" in first.addr_spec else None
        return _one_line(first.display_name, 200), address
    name, address = parseaddr(raw)
    return _one_line(name, 200), (address.lower() if "@" in address else None)


def _date(msg: Message) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _decode_part(part: Message, defects: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset)
    except LookupError:
        defects.append(f"unknown charset {charset!r}")
        text = payload.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        defects.append(f"text does not match its charset {charset!r}")
        try:
            text = payload.decode("utf-8")  # the commonest lie: UTF-8 declared as ASCII
        except UnicodeDecodeError:
            text = payload.decode(charset, errors="replace")
    return text.replace("\x00", "").replace("\r\n", "\n")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]+", "", name).strip().lstrip(".")
    return name[:200] or "attachment"


def _auth_results(msg: Message) -> tuple[AuthResult, ...]:
    results = []
    for header in (msg.get_all("Authentication-Results") or [])[:10]:
        text = _one_line(str(header), 2000)
        serv, _, rest = text.partition(";")
        serv_id = serv.strip().split()[0].lower() if serv.strip() else ""
        for method, result in re.findall(r"\b(dkim|spf|dmarc|arc)\s*=\s*([a-z]+)", rest, re.I):
            results.append(AuthResult(serv_id, method.lower(), result.lower()))
    return tuple(results)


class _Walk:
    """Collects bodies and attachments with bounded work."""

    def __init__(self, max_text_chars: int, forward_depth: int) -> None:
        self.max_text_chars = max_text_chars
        self.forward_depth = forward_depth
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.forwarded: list[ParsedMail] = []
        self.defects: list[str] = []
        self.dsn_recipients: list[str] = []
        self.dsn_original: str | None = None
        self.is_report = False
        self.parts = 0

    def walk(self, part: Message, depth: int = 0) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            if self.parts == MAX_PARTS + 1:
                self.defects.append("too many MIME parts; the rest was skipped")
            return
        if depth > MAX_DEPTH:
            self.defects.append("MIME nesting too deep; inner parts skipped")
            return
        ctype = part.get_content_type()
        if ctype == "multipart/report" and part.get_param("report-type") == "delivery-status":
            self.is_report = True
        if ctype == "message/delivery-status":
            self.is_report = True
            self._dsn_fields(part)
            return
        if part.is_multipart():
            payload = part.get_payload()
            if ctype == "message/rfc822" and isinstance(payload, list) and payload:
                if isinstance(payload[0], Message):
                    self._forward(payload[0])
                return
            if isinstance(payload, list):
                for sub in payload:
                    if isinstance(sub, Message):
                        self.walk(sub, depth + 1)
            return
        disposition = (part.get_content_disposition() or "").lower()
        if ctype.startswith("multipart/"):
            # The announced boundary never came: keep the body as text rather than lose it.
            self.plain.append(_decode_part(part, self.defects))
            return
        if ctype == "text/rfc822-headers":
            found = re.search(r"(?im)^message-id:(.*)$", _decode_part(part, self.defects))
            ids = _ids(found.group(1)) if found else ()
            self.dsn_original = ids[0] if ids else self.dsn_original
            return
        if ctype == "text/plain" and disposition != "attachment":
            self.plain.append(_decode_part(part, self.defects))
            return
        if ctype == "text/html" and disposition != "attachment":
            self.html.append(_decode_part(part, self.defects))
            return
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        cid = _header(part, "Content-ID").strip("<> ") or None
        self.attachments.append(
            ParsedAttachment(
                filename=_filename(part),
                content_type=ctype,
                data=data,
                content_id=cid,
                inline=disposition == "inline" or (cid is not None and disposition != "attachment"),
            )
        )

    def _forward(self, inner: Message) -> None:
        raw = inner.as_bytes() if isinstance(inner, Message) else b""
        if self.forward_depth < MAX_FORWARD_DEPTH and raw:
            try:
                parsed = _parse(raw, False, self.max_text_chars, self.forward_depth + 1)
            except UnparseableMail:
                parsed = None
            if parsed is not None:
                self.forwarded.append(parsed)
                if not self.dsn_original and parsed.message_id:
                    self.dsn_original = parsed.message_id
        self.attachments.append(
            ParsedAttachment("forwarded.eml", "message/rfc822", raw, None, False)
        )

    def _dsn_fields(self, part: Message) -> None:
        payload = part.get_payload()
        blocks: list[str] = []
        if isinstance(payload, list):
            blocks = [str(p) for p in payload]
        else:
            blocks = [_decode_part(part, self.defects)]
        text = "\n".join(blocks)
        for block in re.split(r"\n\s*\n", text):
            action = re.search(r"(?im)^action:\s*(\S+)", block)
            recipient = re.search(r"(?im)^(?:final|original)-recipient:\s*[^;]*;\s*(\S+)", block)
            if recipient and (action is None or action.group(1).lower() == "failed"):
                self.dsn_recipients.append(recipient.group(1).strip("<>").lower())


def parse_mail(
    raw: bytes, *, headers_only: bool = False, max_text_chars: int = 1_000_000
) -> ParsedMail:
    if not _looks_like_mail(raw):
        raise UnparseableMail("no mail header block")
    return _parse(raw, headers_only, max_text_chars, 0)


def _parse(raw: bytes, headers_only: bool, max_text_chars: int, forward_depth: int) -> ParsedMail:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    walk = _Walk(max_text_chars, forward_depth)
    walk.defects.extend(type(d).__name__ for d in msg.defects[:20])
    if not headers_only:
        walk.walk(msg)
    html_source = "\n".join(walk.html)
    if len(html_source) > MAX_HTML_CHARS:
        walk.defects.append("HTML body truncated")
        html_source = html_source[:MAX_HTML_CHARS]
    html = sanitize_html(html_source) if html_source.strip() else None
    text = "\n".join(t for t in walk.plain if t.strip())
    if not text and html_source:
        text = html_to_text(html_source)
    for forwarded in walk.forwarded:
        text += "\n\n---------- Forwarded message ----------\n" + forwarded.text
    if len(text) > max_text_chars:
        walk.defects.append("text truncated")
        text = text[:max_text_chars]
    text = text.replace("\x00", "")

    from_name, from_address = _from(msg)
    subject = _header(msg, "Subject")
    auto = _header(msg, "Auto-Submitted").lower() or None
    if auto == "no":
        auto = None
    precedence = _header(msg, "Precedence").lower()
    return_path_header = _header(msg, "Return-Path")
    return_path = None
    if return_path_header:
        return_path = parseaddr(return_path_header)[1].lower() if return_path_header != "<>" else ""
    is_auto_reply = bool(
        auto
        or _header(msg, "X-Autoreply")
        or _header(msg, "X-Autorespond")
        or precedence == "auto_reply"
        or re.match(r"(?i)^(auto(matic)? ?reply|out of (the )?office|autoreply)\b", subject)
    )
    is_bulk = precedence in ("bulk", "list", "junk") or bool(
        _header(msg, "List-Id") or _header(msg, "List-Unsubscribe")
    )
    sender_local = (from_address or "").split("@")[0]
    is_bounce = (
        walk.is_report
        or (return_path == "" and sender_local in ("mailer-daemon", "postmaster"))
        or sender_local == "mailer-daemon"
    )
    reply_to_values = _addresses(msg, "Reply-To")
    message_ids = _ids(_header(msg, "Message-ID"))
    return ParsedMail(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(_header(msg, "References")),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to_values[0] if reply_to_values else None,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        delivered_to=tuple(
            dict.fromkeys((*_addresses(msg, "Delivered-To"), *_addresses(msg, "X-Original-To")))
        ),
        return_path=return_path,
        date=_date(msg),
        text=text,
        new_text=strip_quoted(text) if text else "",
        html=html,
        attachments=tuple(walk.attachments),
        auto_submitted=auto,
        is_auto_reply=is_auto_reply,
        is_bulk=is_bulk,
        is_bounce=is_bounce,
        bounce_recipients=tuple(dict.fromkeys(walk.dsn_recipients)),
        bounce_original_message_id=walk.dsn_original,
        auth_results=_auth_results(msg),
        forwarded=tuple(walk.forwarded),
        defects=tuple(walk.defects),
        headers_only=headers_only,
    )
