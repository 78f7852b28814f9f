"""Pure rules of the customer portal: which files a customer may attach and what they are
called once stored, the topics of the new-ticket form, and how a status reads to a customer."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Screenshots and PDFs, recognised by their first bytes, never by the name or the type the
# browser claims: (signature, offset, stored content type, extension).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"%PDF-", 0, "application/pdf", "pdf"),
)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
MAX_NAME_CHARS = 100
ALLOWED_DESCRIPTION = "PNG, JPEG, GIF or WebP screenshots and PDF documents"
_EXTENSIONS = {
    "png": ("png",),
    "jpg": ("jpg", "jpeg"),
    "gif": ("gif",),
    "webp": ("webp",),
    "pdf": ("pdf",),
}
_UNSAFE = re.compile(r"[^\w .()+-]+")


class RefusedFile(ValueError):
    """A file the portal does not take, with the reason a customer can act on."""


@dataclass(frozen=True)
class AcceptedFile:
    filename: str
    content_type: str
    data: bytes


def sniff_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a screenshot or PDF, read off its first bytes."""
    for signature, offset, content_type, extension in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return content_type, extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def safe_filename(name: str, extension: str) -> str:
    """What a file is called on the ticket: display text, never a path. The last part of
    whatever path the browser sent, without control or unusual characters, at most
    ``MAX_NAME_CHARS`` long, always ending in the extension of what the bytes are."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    stem, dot, given = name.rpartition(".")
    if not dot or given.lower() not in _EXTENSIONS[extension]:
        stem = name
    stem = " ".join(_UNSAFE.sub("_", stem).split()).strip("._ ")
    stem = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip("._ ")
    return f"{stem or 'attachment'}.{extension}"


def accept_file(name: str, data: bytes) -> AcceptedFile:
    """The file as the ticket keeps it, or RefusedFile."""
    if not data:
        raise RefusedFile("an empty file cannot be attached")
    if len(data) > MAX_FILE_BYTES:
        raise RefusedFile(f"a file may have at most {MAX_FILE_BYTES // (1024 * 1024)} MB")
    found = sniff_type(data)
    if found is None:
        raise RefusedFile(f"only {ALLOWED_DESCRIPTION} can be attached")
    content_type, extension = found
    return AcceptedFile(safe_filename(name, extension), content_type, data)


# --- topics of the new-ticket form ----------------------------------------------------------


@dataclass(frozen=True)
class TopicSetting:
    """One topic a customer may pick, and the name of the team its tickets go to ("" none)."""

    label: str
    team: str


def parse_topics(text: str) -> tuple[TopicSetting, ...]:
    """``INBOX_PORTAL_TOPICS``: ``Label=Team name; Other label=Other team; Label``, a topic
    without ``=Team`` going to no team. Blank entries are skipped; a label counts once."""
    topics: list[TopicSetting] = []
    seen: set[str] = set()
    for entry in text.split(";"):
        label, _, team = entry.partition("=")
        label, team = " ".join(label.split()), " ".join(team.split())
        if not label or label.lower() in seen:
            continue
        if len(label) > 100 or len(team) > 100:
            raise ValueError("INBOX_PORTAL_TOPICS: a label or team name has at most 100 characters")
        seen.add(label.lower())
        topics.append(TopicSetting(label, team))
    return tuple(topics)


# --- statuses as customers read them --------------------------------------------------------

# A desk's own status names are for agents ("escalated to fraud"); customers see the category.
CUSTOMER_STATUS = {
    "new": "Received",
    "open": "In progress",
    "waiting_on_customer": "Waiting for your reply",
    "waiting_on_third_party": "In progress",
    "resolved": "Solved",
    "closed": "Closed",
}


def customer_status(category: str) -> str:
    return CUSTOMER_STATUS.get(category, "In progress")
