"""Pure helpers for the phone: numbers in E.164, references spelled out for reading aloud."""

from __future__ import annotations

import phonenumbers

from inbox.errors import InvalidInput

# Letters as agents read them out: the ICAO spelling alphabet, for the letters a reference uses.
_SPELLING = {
    "A": "Alfa",
    "B": "Bravo",
    "C": "Charlie",
    "D": "Delta",
    "E": "Echo",
    "F": "Foxtrot",
    "G": "Golf",
    "H": "Hotel",
    "I": "India",
    "J": "Juliett",
    "K": "Kilo",
    "L": "Lima",
    "M": "Mike",
    "N": "November",
    "O": "Oscar",
    "P": "Papa",
    "Q": "Quebec",
    "R": "Romeo",
    "S": "Sierra",
    "T": "Tango",
    "U": "Uniform",
    "V": "Victor",
    "W": "Whiskey",
    "X": "X-ray",
    "Y": "Yankee",
    "Z": "Zulu",
}
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def normalize_phone(text: str, default_region: str | None = None) -> str:
    """``text`` as an E.164 number (``+4915112345678``); InvalidInput when it is not a number.

    Without a leading ``+`` (or ``00``) the number is read in ``default_region`` (an ISO
    country code such as ``DE``); with no region configured, such a number is refused rather
    than guessed.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 40:
        raise InvalidInput("a phone number is required")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned.startswith("+") and not default_region:
        raise InvalidInput("give the phone number with its country code, e.g. +49 151 1234567")
    try:
        number = phonenumbers.parse(cleaned, None if cleaned.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"not a phone number: {text.strip()[:40]!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"not a valid phone number: {text.strip()[:40]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """An E.164 number grouped for people: ``+49 1511 2345678``."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def spoken_groups(reference: str) -> list[str]:
    """The reference in its dash-separated groups, symbols spaced: ``["H D", "7 K 4 Q"]``."""
    return [" ".join(group) for group in reference.split("-") if group]


def spoken_reference(reference: str) -> str:
    """The reference as an agent reads it out: groups apart, letters spelled, digits named.

    ``HD-7K4Q-2M9XC`` -> ``Hotel Delta — seven Kilo four Quebec — two Mike nine X-ray Charlie``.
    """
    return " — ".join(
        " ".join(
            _DIGITS[int(symbol)] if symbol.isdigit() else _SPELLING.get(symbol, symbol)
            for symbol in group
        )
        for group in reference.upper().split("-")
        if group
    )
