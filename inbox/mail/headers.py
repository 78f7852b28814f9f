"""Decoding helpers for header fields and declared charsets.

Mail from the open internet lies about its charsets, mangles RFC 2047 encoded words, nests
comments in addresses and repeats fields. The standard library either raises on that input or,
in places, takes quadratic time, so these helpers decode with replacement characters, record a
human-readable note in the caller's ``defects`` list, and never raise.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
import unicodedata
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

# Python codecs that are text encodings but no mail charset; decoding with them is never right.
_NOT_MAIL_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "charmap"}
)
# Labels that are in practice supersets, as browsers treat them (WHATWG Encoding Standard).
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
_ALIASES = {"iso-8859-8-i": "iso-8859-8", "x-sjis": "shift_jis", "x-mac-roman": "mac-roman"}
_ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us_ascii"})

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*)\?=")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,998})>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]{1,64}@[^@\s<>()\[\],;:\"\\]{1,255}")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_RESINFO = re.compile(r"\s*([A-Za-z0-9_.-]+)(?:/[0-9]+)?\s*=\s*([A-Za-z0-9_-]+)")

MAX_ADDRESSES = 500
MAX_MESSAGE_IDS = 100


@functools.lru_cache(maxsize=256)
def _codec_name(charset: str) -> str | None:
    """Python codec for a declared mail charset, or None when we do not know it."""
    label = charset.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    for candidate in (label, label.removeprefix("x-")):
        try:
            name = codecs.lookup(candidate).name
        except LookupError:
            continue
        if name in _NOT_MAIL_CHARSETS:
            return None
        try:
            b"".decode(name)
        except LookupError:  # bytes-to-bytes codecs such as zlib or hex
            return None
        return _SUPERSETS.get(name, name)
    return None


def _label(charset: str) -> str:
    return _CONTROL.sub("", charset)[:40]


def decode_bytes(data: bytes, charset: str | None, defects: list[str]) -> str:
    """Decode text in its declared charset; wrong or unknown charsets give U+FFFD, not errors."""
    if charset is None or charset.strip().lower() in _ASCII_LABELS:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            defects.append("8-bit text without a declared charset; undecodable bytes replaced")
            return data.decode("utf-8", "replace")
    codec = _codec_name(charset)
    if codec is None:
        defects.append(f"unknown charset {_label(charset)!r}; decoded as UTF-8")
        return data.decode("utf-8", "replace")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        defects.append(
            f"text does not match its declared charset {_label(charset)!r}; "
            "undecodable bytes replaced"
        )
        return data.decode(codec, "replace")
    except Exception:  # a codec that fails in another way is as good as unknown
        defects.append(f"charset {_label(charset)!r} could not be used; decoded as UTF-8")
        return data.decode("utf-8", "replace")


def raw_header_text(value: str, defects: list[str]) -> str:
    """Turn a raw header value (8-bit bytes kept as surrogates by the parser) into text.

    Raw UTF-8 in headers is allowed by RFC 6532; anything else 8-bit is most likely Windows-1252.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("ascii", "surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            defects.append("8-bit header text in an unknown charset; read as Windows-1252")
            return raw.decode("cp1252", "replace")
    return value


def storable(value: str) -> str:
    """Raw header text that every database stores as it is: 8-bit bytes decoded (see
    ``raw_header_text``), NUL and the other control characters dropped.

    Values kept verbatim (Message-IDs, Content-IDs) go through this: SQLite refuses the
    surrogates that stand for undecoded bytes, PostgreSQL refuses NUL.
    """
    return _CONTROL.sub("", raw_header_text(value, []))


def mime_type(value: str) -> str:
    """A ``type/subtype`` as stored with an attachment; anything else is a plain download."""
    return value if _MIME_TYPE.fullmatch(value) else "application/octet-stream"


def unfold(value: str) -> str:
    return _FOLD.sub("", value)


def single_line(value: str, limit: int) -> str:
    """One line of display text: folding undone, control characters gone, length capped.

    Names and subjects are reused in outbound mail, so CR, LF and NUL must never survive.
    """
    return " ".join(_CONTROL.sub(" ", unfold(value)).split())[:limit]


def _decode_word(encoding: str, text: str) -> bytes | None:
    if encoding in "bB":
        stripped = text.rstrip("=")
        try:
            return base64.b64decode(stripped + "=" * (-len(stripped) % 4))
        except (binascii.Error, ValueError):
            return None
    return binascii.a2b_qp(text.encode("utf-8"), header=True)


def decode_words(value: str, defects: list[str]) -> str:
    """Decode RFC 2047 encoded words; a broken word stays as it was written.

    Adjacent words in one charset are joined before decoding, because senders split multi-byte
    characters across words.
    """
    out: list[str] = []
    pending_charset: str | None = None
    pending = bytearray()

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset is not None:
            out.append(decode_bytes(bytes(pending), pending_charset, defects))
        pending_charset = None
        pending.clear()

    pos = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 adds "*language"
        data = _decode_word(match.group(2), match.group(3))
        pos = match.end()
        if data is None:
            defects.append("broken encoded word in a header; kept as written")
            flush()
            out.extend((gap, match.group(0)))
            after_word = False
            continue
        if gap and not (after_word and gap.isspace()):
            flush()
            out.append(gap)
        if pending_charset is not None and pending_charset.lower() != charset.lower():
            flush()
        pending_charset = charset
        pending.extend(data)
        after_word = True
    flush()
    out.append(value[pos:])
    return "".join(out)


def display_text(value: str, limit: int, defects: list[str]) -> str:
    """A header value as one line of human text (subjects, names)."""
    return single_line(decode_words(raw_header_text(unfold(value), defects), defects), limit)


def is_invisible_or_control(char: str) -> bool:
    """Control, format (bidi overrides, zero-width) and line-separator characters."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def normalize_address(address: str) -> str | None:
    """Lowercased addr-spec, or None when it is not a plausible address."""
    address = address.strip()
    if not _ADDRESS.fullmatch(address) or any(map(is_invisible_or_control, address)):
        return None
    return address.lower()


def parse_addresses(values: list[str], defects: list[str]) -> list[tuple[str, str | None]]:
    """(display name, address or None) pairs from address header values, in order."""
    texts = [raw_header_text(unfold(value), defects) for value in values]
    try:
        pairs = getaddresses(texts)
    except (RecursionError, IndexError, ValueError):
        defects.append("address header could not be parsed")
        return []
    return [
        (single_line(decode_words(name, defects), 200), normalize_address(address))
        for name, address in pairs[:MAX_ADDRESSES]
    ]


def address_list(values: list[str], defects: list[str]) -> tuple[str, ...]:
    """Distinct valid addresses from address header values, in order of appearance."""
    found = [address for _name, address in parse_addresses(values, defects) if address]
    return tuple(dict.fromkeys(found))


def message_ids(value: str) -> tuple[str, ...]:
    """Message-IDs from In-Reply-To or References, without angle brackets.

    Very long References keep the root and the most recent ids, which are what threading uses.
    """
    found = _MESSAGE_ID.findall(value) or value.split()
    ids = list(dict.fromkeys(single_line(found_id, 998) for found_id in found))
    ids = [found_id for found_id in ids if found_id]
    if len(ids) > MAX_MESSAGE_IDS:
        ids = ids[:1] + ids[-(MAX_MESSAGE_IDS - 1) :]
    return tuple(ids)


def normalize_message_id(value: str | None) -> str | None:
    """The id inside angle brackets (or the whole value, blanks removed), as storable text."""
    if value is None:
        return None
    value = storable(value)
    match = _MESSAGE_ID.search(value)
    text = match.group(1) if match else "".join(value.split())
    return text[:998] or None


def _without_comments(value: str) -> str:
    """Drop (nested) comments outside quoted strings, iteratively; quotes are removed too."""
    out: list[str] = []
    depth = 0
    quoted = False
    for char in value:
        if quoted:
            quoted = char != '"'
            out.append(char if quoted else "")
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            out.append("" if quoted else char)
    return "".join(out)


def authentication_results(value: str) -> list[tuple[str, str, str]]:
    """(authserv-id, method, result) triples from one Authentication-Results value (RFC 8601).

    Anyone can add this header; the caller trusts only its own authserv-id.
    """
    clauses = _without_comments(unfold(value)).split(";")
    words = clauses[0].split()
    if not words:
        return []
    authserv_id = words[0].lower()
    results = []
    for clause in clauses[1:]:
        match = _RESINFO.match(clause)
        if match:
            results.append((authserv_id, match.group(1).lower(), match.group(2).lower()))
    return results


def display_filename(name: str, defects: list[str]) -> str | None:
    """An attachment's name as display text: no path, no control or bidi characters, capped."""
    name = decode_words(raw_header_text(name, defects), defects)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not is_invisible_or_control(char))
    name = " ".join(name.split()).strip(". ")
    if len(name) > 255:  # keep the extension, which says what the file is
        stem, dot, extension = name.rpartition(".")
        keep = dot and len(extension) <= 16
        name = f"{stem[: 254 - len(extension)]}.{extension}" if keep else name[:255]
    return name or None


class HeaderReader:
    """Raw header access for one message, decoding notes going to a shared defects list."""

    def __init__(self, message: Message, defects: list[str]) -> None:
        self.message = message
        self.defects = defects

    def all(self, name: str) -> list[str]:
        return [str(value) for value in (self.message.get_all(name) or [])][:100]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def text(self, name: str, limit: int = 998) -> str:
        value = self.first(name)
        return "" if value is None else display_text(value, limit, self.defects)

    def present(self, name: str) -> bool:
        value = self.first(name)
        return value is not None and self.text(name).lower() != "no"

    def addresses(self, *names: str) -> tuple[str, ...]:
        return address_list([v for name in names for v in self.all(name)], self.defects)

    def first_address(self, name: str) -> tuple[str, str | None]:
        pairs = parse_addresses(self.all(name)[:1], self.defects)
        return pairs[0] if pairs else ("", None)

    def return_path(self) -> str | None:
        value = self.first("Return-Path")
        if value is None:
            return None
        try:
            address = parseaddr(raw_header_text(unfold(value), self.defects))[1]
        except (RecursionError, IndexError, ValueError):
            address = ""
        return normalize_address(address) if address.strip() else ""

    def date(self) -> datetime | None:
        value = self.text("Date")
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            self.defects.append("the Date header cannot be read")
            return None
