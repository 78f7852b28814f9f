"""Masking what a customer should never have typed into a chat or a direct message: card
numbers, one-time codes and passwords.

One function, ``mask_sensitive``, serves every channel that takes free text (live chat, social
direct messages, what agents type), and runs before anything is stored, so no field of the
API, a page, a push or an export ever holds more than a card's last four digits.

- A card number is 13 to 19 digits, written whole or in groups split by single spaces or
  dashes, that passes the Luhn check. All but its last four digits become ``•``; the
  separators stay, so the text still reads as a card number.
- A one-time code is a run of 4 to 10 digits (``123456``, ``123 456``, ``123-456``) written
  after a word such as "code", "OTP" or "PIN"; every digit becomes ``•``.
- A password is the word after "password" (or "passcode", "pwd"), with an optional "is",
  "was", ``:`` or ``=`` between, unless that word is one of the ordinary words people write
  there ("my password is not working"); it becomes eight ``•``, whatever its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "•"
CARD = "card number"
CODE = "one-time code"
PASSWORD = "password"  # noqa: S105 (what was masked, named for the note)
PASSWORD_HIDDEN = MASK * 8  # the same whatever its length

# Digits in groups split by one space or dash, not touching other digits.
_DIGIT_RUN = re.compile(r"(?<![\d])\d+(?:[ -]\d+)*(?![\d])")
_CODE = re.compile(
    r"\b(?:code|codes|otp|pin|passcode|verification|2fa|mfa)\b"
    r"(?:\s+(?:is|was|are|number|no\.?))?\s*[:=#]?\s*"
    r"(?P<code>\d{3,5}[ -]?\d{1,5})(?![\d])",
    re.IGNORECASE,
)
_PASSWORD = re.compile(
    r"\b(?:password|passwd|pwd|passphrase)\b(?:\s+(?:is|was|=)|\s*[:=])?\s+(?P<secret>\S+)"
    r"|\b(?:password|passwd|pwd|passphrase)\s*[:=]\s*(?P<glued>\S+)",
    re.IGNORECASE,
)
# What people write after "password" that is no password.
_PLAIN = """a an and any are as at be been but by can can't cannot changed correct didn't doesn't
does don't expired for forgot forgotten from has have hidden how i in incorrect invalid is isn't
it just keeps link manager my no not now of on or please reset right so still that the then
there this to twice wasn't was were what when where which will with won't wouldn't wrong you
your"""
_PLAIN_WORDS = frozenset(_PLAIN.split())


@dataclass(frozen=True)
class Masked:
    """The text with what it should not show masked, and the kinds of thing masked (each
    named once, in the order found), for the note on the message and the hint to the
    customer."""

    text: str
    found: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.found)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_digits(text: str, keep_last: int) -> str:
    """Every digit of ``text`` but the last ``keep_last`` becomes the mask; the rest stays."""
    digits = sum(c.isdigit() for c in text)
    out, seen = [], 0
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - keep_last else MASK)
        else:
            out.append(char)
    return "".join(out)


def _card_in(run: str) -> tuple[int, int] | None:
    """Where, in a run of digit groups, a card number lies: the longest span of whole groups
    with 13 to 19 digits that passes the Luhn check (leftmost first), as string offsets."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    best: tuple[int, int] | None = None
    best_digits = 0
    for first in range(len(groups)):
        count = 0
        for last in range(first, len(groups)):
            count += groups[last][1] - groups[last][0]
            if count > 19:
                break
            if count >= 13 and count > best_digits:
                span = (groups[first][0], groups[last][1])
                if luhn_valid(re.sub(r"\D", "", run[span[0] : span[1]])):
                    best, best_digits = span, count
    return best


def _mask_cards(text: str) -> tuple[str, bool]:
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        run = match.group(0)
        out = run
        # A run may hold more than one card, or a card beside other numbers.
        offset = 0
        while (span := _card_in(run[offset:])) is not None:
            start, end = span[0] + offset, span[1] + offset
            out = out[:start] + _mask_digits(out[start:end], 4) + out[end:]
            found = True
            offset = end
        return out

    return _DIGIT_RUN.sub(replace, text), found


def mask_sensitive(text: str) -> Masked:
    """``text`` with card numbers, one-time codes and passwords masked (module docstring)."""
    found: list[str] = []
    text, cards = _mask_cards(text)
    if cards:
        found.append(CARD)

    def code(match: re.Match[str]) -> str:  # the code ends the match
        lead = match.start("code") - match.start()
        return match.group(0)[:lead] + _mask_digits(match.group("code"), 0)

    text, codes = _CODE.subn(code, text)
    if codes:
        found.append(CODE)

    hidden = 0

    def password(match: re.Match[str]) -> str:
        nonlocal hidden
        group = "secret" if match.group("secret") is not None else "glued"
        secret = match.group(group)
        if secret.lower().strip(".,!?;:") in _PLAIN_WORDS or not secret.strip(MASK):
            return match.group(0)
        hidden += 1
        start, end = match.span(group)
        base = match.start()
        whole = match.group(0)
        return whole[: start - base] + PASSWORD_HIDDEN + whole[end - base :]

    text = _PASSWORD.sub(password, text)
    if hidden:
        found.append(PASSWORD)
    return Masked(text, tuple(found))


def masking_note(found: tuple[str, ...]) -> str:
    """The note on a message that had something masked, for the agent and the customer."""
    if not found:
        return ""
    names = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
    return (
        f"Masked for your safety: {names}. Please never share card numbers, codes or "
        "passwords here; we will never ask for them."
    )
