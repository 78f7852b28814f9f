"""Separate what a person just wrote from the history their mail client quoted below it.

Agents read the new part of a reply, and ticket timelines would otherwise repeat the whole thread
in every message. Mail clients mark the history in a handful of conventional ways (an attribution
line such as "On <date>, <name> wrote:", Outlook's header block, ">" prefixes, the "-- "
signature delimiter); we recognise those and never guess beyond them. The full text is always
kept elsewhere, so a miss costs only some repetition.
"""

from __future__ import annotations

import re

# Attribution lines only ever are this long; longer lines are never tested, which keeps the
# regular expressions below cheap on hostile input.
_MAX_MARKER_LINE = 500

_ATTRIBUTION = re.compile(
    r"^(?:"
    r"On\s.{1,400}\swrote\s?:"  # English (Gmail, Apple Mail, Thunderbird)
    r"|Am\s.{1,400}\sschrieb\s.{0,400}:"  # German
    r"|Le\s.{1,400}\sa\s[ée]crit\s?:"  # French
    r"|El\s.{1,400}\sescribi[óo]\s?:"  # Spanish
    r"|Op\s.{1,400}\sschreef\s.{0,400}:"  # Dutch
    r"|Il\s.{1,400}\sha\sscritto\s?:"  # Italian
    r"|Em\s.{1,400}\sescreveu\s?:"  # Portuguese
    r")\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^(?:On|Am|Le|El|Op|Il|Em)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Messaggio originale|Oorspronkelijk bericht|Mensagem original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\*?(?:From|Von|De|Van|Da)\s?:\*?\s", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\*?(?:Sent|Date|Gesendet|Datum|Envoy[ée]|Enviado|Verzonden|Inviato)\s?:", re.IGNORECASE
)
_HEADER_TO = re.compile(
    r"^\*?(?:To|Subject|An|Betreff|[ÀA]|Objet|Para|Asunto|Aan|Onderwerp|Oggetto)\s?:",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{10,}\s*$")
_SIGNATURE = "--"
# Every marker above starts with one of these; other lines are skipped without a regex.
_MARKER_FIRST = frozenset("-_*OoAaLlEeIiFfVvDd")


def _is_attribution(lines: list[str], index: int) -> bool:
    """An attribution line, or one that a mail client wrapped onto the following line."""
    line = lines[index].strip()
    if len(line) > _MAX_MARKER_LINE or not _ATTRIBUTION_START.match(line):
        return False
    if _ATTRIBUTION.match(line):
        return True
    if index + 1 < len(lines):
        joined = f"{line} {lines[index + 1].strip()}"
        return len(joined) <= _MAX_MARKER_LINE and bool(_ATTRIBUTION.match(joined))
    return False


def _is_outlook_header_block(lines: list[str], index: int) -> bool:
    """Outlook's "From: / Sent: / To: / Subject:" block that starts the quoted original."""
    if not _HEADER_FROM.match(lines[index]) or len(lines[index]) > _MAX_MARKER_LINE:
        return False
    following = [line.strip() for line in lines[index + 1 : index + 6]]
    return any(_HEADER_SENT.match(line) for line in following) and any(
        _HEADER_TO.match(line) for line in following
    )


def _first_history_line(lines: list[str]) -> int:
    """Index of the first line that belongs to quoted history or the signature."""
    for index, raw in enumerate(lines):
        if raw.lstrip()[:1] not in _MARKER_FIRST:
            continue
        line = raw.rstrip()
        if line == _SIGNATURE or _ORIGINAL_MESSAGE.match(line) or _is_attribution(lines, index):
            return index
        if _is_outlook_header_block(lines, index):
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            if previous >= 0 and _UNDERSCORES.match(lines[previous]):
                return previous
            return index
    return len(lines)


def strip_quoted(text: str) -> str:
    """The new part of a reply: quoted history, ">" lines and the signature removed.

    If nothing would be left (a mail that is all quote, or a bare forward), the original text is
    returned stripped, so the result is never empty for a non-empty mail.
    """
    lines = text.splitlines()
    kept = [
        line for line in lines[: _first_history_line(lines)] if not line.lstrip().startswith(">")
    ]
    return "\n".join(kept).strip() or text.strip()
