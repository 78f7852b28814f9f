"""Raw mail bytes into the fields the desk works with: pure, bounded, never crashing on bad mail.

Ingestion stores the raw bytes first and calls ``parse_mail`` later, so the parser may be strict
about nothing: broken MIME, lying charsets and hostile HTML all parse, with a human-readable note
in ``defects``. Only input that is not a mail at all raises ``UnparseableMail`` (the caller
quarantines it). Work is bounded: MIME parts, nesting, forwarded levels, text and HTML length.

The standard library's compat32 parser is used with raw header values, because the modern header
registry raises on, or recurses through, the malformed headers real mail carries; the decoding
it would do is in ``inbox.mail.headers`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.policy import Compat32
from urllib.parse import unquote

from inbox.mail import headers as h
from inbox.mail.quotes import strip_quoted
from inbox.mail.sanitize import html_to_text, sanitize_html_with_defect

MAX_PARTS = 200
MAX_DEPTH = 10
MAX_FORWARD_DEPTH = 3
MAX_DEFECTS = 50
FORWARD_LINE = "---------- Forwarded message ----------"


class UnparseableMail(Exception):
    """Raw bytes that are not a mail at all (no header block, binary garbage)."""


@dataclass(frozen=True)
class ParsedAttachment:
    """One attachment; ``inline`` when so disposed or shown by the HTML through ``cid:``."""

    filename: str  # display text only, never a path; "attachment" when the mail gives none
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


@dataclass(frozen=True)
class AuthResult:
    """One verdict from an Authentication-Results header, lowercased; trust it only by id."""

    authserv_id: str
    method: str
    result: str


@dataclass(frozen=True)
class ParsedMail:
    """What the desk needs from one mail.

    Addresses are lowercased addr-specs and ids come without angle brackets. ``text`` is the
    whole readable body with forwarded mails appended, ``new_text`` what the sender just wrote,
    ``html`` sanitized. ``return_path`` is "" for the empty path "<>", None when missing.
    Subject and names are single lines, safe to reuse in outbound headers.
    """

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
    # X-Auto-Response-Suppress (Microsoft's), lowercased: which automatic answers the sender
    # asks not to get ("all", "autoreply", "oof", "dr", ...).
    auto_response_suppress: tuple[str, ...]
    is_auto_reply: bool
    is_bulk: bool
    is_bounce: bool
    bounce_recipients: tuple[str, ...]
    bounce_original_message_id: str | None
    # Reply-To addresses of the returned mail (where the desk puts its signed reply token).
    bounce_original_reply_to: tuple[str, ...]
    auth_results: tuple[AuthResult, ...]
    forwarded: tuple[ParsedMail, ...]
    defects: tuple[str, ...]
    headers_only: bool


class _RawHeaders(Compat32):
    """compat32, but header values come back raw (8-bit kept as surrogates) and capped.

    The standard parameter parser is quadratic in the number of ";" in a value, and the parser
    itself reads Content-Type, so the cap has to apply here, before any parameter is parsed.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if name.lower() in ("content-type", "content-disposition"):
            return ";".join(value[:4096].split(";", 64)[:64])
        return value[:65536]


_POLICY = _RawHeaders()
_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,200}[ \t]*:", re.MULTILINE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_CID = re.compile(r"cid:([^\s\"'<>)]{1,998})", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*<([^<>\s]{1,998})>", re.IGNORECASE | re.MULTILINE)
_REPLY_TO_LINE = re.compile(r"^\s*Reply-To:([^\n]{1,998})$", re.IGNORECASE | re.MULTILINE)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(?:out of (?:the )?office(?: autoreply)?|automatic reply|auto[- ]?reply|auto[- ]?response"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática"
    r"|risposta automatica)\s*(?::|$)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"(?:^|[<\s\"])(?:mailer-daemon|postmaster)(?:@|>|$)", re.IGNORECASE)
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-AutoReply-From", "X-Mail-Autoreply")
_SINGLE_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID")
_DEFECT_NOTES = {
    "CloseBoundaryNotFoundDefect": "a multipart closing boundary is missing; the mail may be cut",
    "StartBoundaryNotFoundDefect": "the multipart boundary never appears; body kept as text",
    "NoBoundaryInMultipartDefect": "a multipart part has no boundary; body kept as text",
    "MissingHeaderBodySeparatorDefect": "a line in the header block is not a header field",
    "InvalidBase64PaddingDefect": "broken base64 in a part; decoded as far as possible",
    "InvalidBase64CharactersDefect": "broken base64 in a part; decoded as far as possible",
    "InvalidBase64LengthDefect": "broken base64 in a part; decoded as far as possible",
}


def _is_delivery_report(part: Message) -> bool:
    report_type = part.get_param("report-type")
    return part.get_content_type() == "multipart/report" and (
        isinstance(report_type, str) and report_type.lower() == "delivery-status"
    )


def _refuse_non_mail(raw: bytes) -> None:
    head = raw[:65536]
    if not head.strip():
        raise UnparseableMail("empty input")
    sample = head[:4096]
    if len(sample) - len(sample.translate(None, _CONTROL_BYTES)) > len(sample) // 10:
        raise UnparseableMail("binary data, not a mail")
    blank = _BLANK_LINE.search(head)
    block = head[: blank.start()] if blank else head
    if block.startswith(b"From "):  # an mbox envelope line
        block = block.partition(b"\n")[2]
    if not _HEADER_LINE.search(block):
        raise UnparseableMail("no header block")


def _parse_bytes(raw: bytes, defects: list[str]) -> Message:
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw)
    except RecursionError:  # the parser recurses once per MIME level
        defects.append("MIME structure nested too deeply to read; body kept as plain text")
        return BytesHeaderParser(policy=_POLICY).parsebytes(raw)


def _defect_note(defect: object) -> str:
    name = type(defect).__name__
    generic = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Defect")).lower()
    return _DEFECT_NOTES.get(name, f"MIME defect: {generic}")


def _decode_text(part: Message, defects: list[str]) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    text = h.decode_bytes(data, part.get_content_charset(None), defects)
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def _display_filename(part: Message, defects: list[str]) -> str | None:
    try:
        name = part.get_filename()
    except (LookupError, UnicodeError, ValueError, TypeError):
        defects.append("an attachment name cannot be read")
        return None
    return h.display_filename(name, defects) if name else None


@dataclass
class _Budget:
    parts: int = MAX_PARTS


class _Walk:
    """Collects the bodies, attachments and report parts of one message's MIME tree."""

    def __init__(self, budget: _Budget, forward_depth: int, max_text_chars: int) -> None:
        self.budget = budget
        self.forward_depth = forward_depth
        self.max_text_chars = max_text_chars
        self.defects: list[str] = []
        self.plain: list[str] = []
        self.html: list[str] = []
        self.parts: list[ParsedAttachment] = []
        self.forwarded: list[ParsedMail] = []
        self.returned_ids: list[str] = []
        self.returned_reply_to: list[str] = []
        self.dsn_recipients: list[str] = []
        self.is_report = False

    def walk(self, message: Message) -> None:
        stack = [(message, 0)]
        while stack:
            part, depth = stack.pop()
            self.budget.parts -= 1
            if self.budget.parts < 0:
                self.defects.append(f"more than {MAX_PARTS} MIME parts; the rest was skipped")
                return
            self.defects.extend(_defect_note(defect) for defect in part.defects[:5])
            content_type = part.get_content_type()
            self.is_report |= _is_delivery_report(part)
            if content_type == "message/rfc822":
                self.forward(part)
            elif content_type == "message/delivery-status":
                self.is_report = True
                self.delivery_status(part)
            elif part.is_multipart():
                if depth >= MAX_DEPTH:
                    self.defects.append(
                        f"MIME nesting deeper than {MAX_DEPTH}; inner parts skipped"
                    )
                    continue
                children = [child for child in part.get_payload() if isinstance(child, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
            elif content_type.startswith("multipart/"):
                self.plain.append(_decode_text(part, self.defects))  # its boundary never came
            elif content_type == "text/rfc822-headers":
                returned = HeaderParser(policy=_POLICY).parsestr(_decode_text(part, self.defects))
                self.add_returned_id(returned)
            else:
                self.leaf(part, content_type)

    def leaf(self, part: Message, content_type: str) -> None:
        disposition = part.get_content_disposition()
        filename = _display_filename(part, self.defects)
        is_body = content_type in ("text/plain", "text/html") and disposition != "attachment"
        if is_body and filename is None:
            bodies = self.plain if content_type == "text/plain" else self.html
            bodies.append(_decode_text(part, self.defects))
            return
        payload = part.get_payload(decode=True)
        self.parts.append(
            ParsedAttachment(
                filename=filename or "attachment",
                content_type=h.mime_type(content_type),
                data=payload if isinstance(payload, bytes) else b"",
                content_id=h.normalize_message_id(part.get("Content-ID")),
                inline=disposition == "inline",  # or referenced from the HTML, decided later
            )
        )

    def forward(self, part: Message) -> None:
        """A message/rfc822 part: parsed as a forwarded mail and kept whole as an attachment.

        Keeping it whole matters: only the top-level attachments are stored, and the forwarded
        mail's own attachments would otherwise be lost.
        """
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):  # encoded, so the parser left it alone
            data = part.get_payload(decode=True)
            inner = _parse_bytes(data if isinstance(data, bytes) else b"", self.defects)
        self.add_returned_id(inner)
        try:
            raw = inner.as_bytes()
        except (RecursionError, LookupError, UnicodeError, ValueError):
            raw = b""
        filename = _display_filename(part, self.defects) or "forwarded.eml"
        self.parts.append(ParsedAttachment(filename, "message/rfc822", raw, None, False))
        if self.forward_depth >= MAX_FORWARD_DEPTH:
            self.defects.append("forwarded messages nested too deep; kept only as an attachment")
            return
        self.forwarded.append(
            _build(inner, self.budget, self.forward_depth + 1, self.max_text_chars, [])
        )

    def add_returned_id(self, message: Message) -> None:
        message_id = h.normalize_message_id(message.get("Message-ID"))
        if message_id:
            self.returned_ids.append(message_id)
        reply_to = [str(value) for value in (message.get_all("Reply-To") or [])][:5]
        self.returned_reply_to.extend(h.address_list(reply_to, self.defects))

    def delivery_status(self, part: Message) -> None:
        """Failed recipients from the per-recipient blocks of a DSN (RFC 3464)."""
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks = [block for block in payload if isinstance(block, Message)]
        else:
            text = _decode_text(part, self.defects)
            blocks = [HeaderParser(policy=_POLICY).parsestr(b) for b in text.split("\n\n")]
        for block in blocks[:100]:
            action = (block.get("Action") or "").strip().lower().split(" ")[0]
            if action not in ("", "failed"):
                continue
            for field in ("Final-Recipient", "Original-Recipient"):
                value = h.raw_header_text(h.unfold(block.get(field) or ""), self.defects)
                address = h.normalize_address(value.rpartition(";")[2].strip().strip("<>"))
                if address:
                    self.dsn_recipients.append(address)


def _mark_inline(parts: list[ParsedAttachment], html_source: str) -> tuple[ParsedAttachment, ...]:
    """Parts the HTML shows through ``cid:`` URLs are inline, whatever their disposition."""
    referenced = {unquote(cid).lower() for cid in _CID.findall(html_source)}
    return tuple(
        replace(part, inline=True)
        if part.content_id and part.content_id.lower() in referenced
        else part
        for part in parts
    )


def _forward_block(forwarded: ParsedMail) -> str:
    lines = [FORWARD_LINE]
    name, address = forwarded.from_name, forwarded.from_address
    if name or address:
        lines.append(
            f"From: {name} <{address}>" if name and address else f"From: {name or address}"
        )
    if forwarded.date:
        lines.append(f"Date: {forwarded.date:%Y-%m-%d %H:%M} UTC")
    if forwarded.subject:
        lines.append(f"Subject: {forwarded.subject}")
    return "\n".join(lines) + "\n\n" + forwarded.text


def _is_auto_reply(headers: h.HeaderReader, auto_submitted: str | None, subject: str) -> bool:
    precedence = headers.text("Precedence").lower()
    return (
        auto_submitted is not None
        or any(headers.present(name) for name in _AUTO_REPLY_HEADERS)
        or headers.text("X-Autogenerated").lower() == "reply"
        or precedence == "auto_reply"
        or bool(_AUTO_REPLY_SUBJECT.match(subject))
    )


def _build(
    message: Message,
    budget: _Budget,
    forward_depth: int,
    max_text_chars: int,
    defects: list[str],
    *,
    headers_only: bool = False,
) -> ParsedMail:
    headers = h.HeaderReader(message, defects)
    walk = _Walk(budget, forward_depth, max_text_chars)
    if not headers_only:
        walk.walk(message)
    defects.extend(walk.defects)
    defects.extend(
        f"{name} header appears {len(headers.all(name))} times; the first is used"
        for name in _SINGLE_HEADERS
        if len(headers.all(name)) > 1
    )

    html_source = "\n".join(walk.html)
    html = None
    if html_source.strip():
        html, note = sanitize_html_with_defect(html_source)
        defects.extend([note] if note else [])
    own_text = "\n\n".join(part.strip("\n") for part in walk.plain if part.strip())
    if not own_text and html_source.strip():
        own_text = html_to_text(html_source)
    text = "\n\n".join([own_text, *map(_forward_block, walk.forwarded)]).strip()
    if len(text) > max_text_chars:
        own_text, text = own_text[:max_text_chars], text[:max_text_chars]
        defects.append(f"text longer than {max_text_chars} characters; truncated")
    new_text = strip_quoted(own_text)

    subject = headers.text("Subject")
    from_name, from_address = headers.first_address("From")
    return_path = headers.return_path()
    auto_value = headers.text("Auto-Submitted", 200).lower()
    auto_submitted = auto_value if auto_value.split(";")[0].strip() not in ("", "no") else None
    precedence = headers.text("Precedence").lower()
    from_daemon = bool(_DAEMON.search(from_address or headers.text("From")))
    is_bounce = (
        walk.is_report
        or _is_delivery_report(message)
        or (return_path in ("", None) and from_daemon)
    )
    original_id = None
    original_reply_to: tuple[str, ...] = ()
    if is_bounce:
        found = _MESSAGE_ID_LINE.search(text)
        original_id = walk.returned_ids[0] if walk.returned_ids else (found and found.group(1))
        quoted = [m.group(1) for m in _REPLY_TO_LINE.finditer(text[:200_000])][:5]
        original_reply_to = tuple(
            dict.fromkeys([*walk.returned_reply_to, *h.address_list(quoted, defects)])
        )
    return ParsedMail(
        message_id=h.normalize_message_id(headers.first("Message-ID")),
        in_reply_to=h.message_ids(headers.text("In-Reply-To", 65536)),
        references=h.message_ids(headers.text("References", 65536)),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=headers.first_address("Reply-To")[1],
        to=headers.addresses("To"),
        cc=headers.addresses("Cc"),
        delivered_to=headers.addresses("Delivered-To", "X-Original-To"),
        return_path=return_path,
        date=headers.date(),
        text=text,
        new_text=new_text or text,
        html=html,
        attachments=_mark_inline(walk.parts, html_source),
        auto_submitted=auto_submitted,
        auto_response_suppress=tuple(
            word
            for word in re.split(r"[\s,;]+", headers.text("X-Auto-Response-Suppress").lower())
            if word
        )[:20],
        is_auto_reply=_is_auto_reply(headers, auto_submitted, subject),
        is_bulk=precedence in ("bulk", "list", "junk")
        or headers.first("List-Id") is not None
        or headers.first("List-Unsubscribe") is not None,
        is_bounce=is_bounce,
        bounce_recipients=tuple(dict.fromkeys(walk.dsn_recipients)),
        bounce_original_message_id=original_id or None,
        bounce_original_reply_to=original_reply_to,
        auth_results=tuple(
            AuthResult(*triple)
            for value in headers.all("Authentication-Results")[:20]
            for triple in h.authentication_results(h.raw_header_text(value, defects))
        ),
        forwarded=tuple(walk.forwarded),
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
        headers_only=headers_only,
    )


def parse_mail(
    raw: bytes, *, headers_only: bool = False, max_text_chars: int = 1_000_000
) -> ParsedMail:
    """Parse raw mail bytes; raises ``UnparseableMail`` only for input that is not a mail.

    ``headers_only`` is for a mail too big to download: ``raw`` is just its header block.
    """
    _refuse_non_mail(raw)
    defects: list[str] = []
    if headers_only:
        message = BytesHeaderParser(policy=_POLICY).parsebytes(raw)
    else:
        message = _parse_bytes(raw, defects)
    return _build(message, _Budget(), 0, max_text_chars, defects, headers_only=headers_only)
