"""Phone numbers in E.164 and references spelled out for reading aloud."""

from __future__ import annotations

import pytest

from inbox.errors import InvalidInput
from inbox.rules.phone import display_phone, normalize_phone, spoken_groups, spoken_reference


@pytest.mark.parametrize(
    "typed",
    ["+49 151 12345678", "+49 (0)151 1234-5678", "0049 151 12345678", " +4915112345678 "],
)
def test_international_spellings_become_one_e164_number(typed: str) -> None:
    assert normalize_phone(typed) == "+4915112345678"


def test_a_national_number_needs_a_configured_region() -> None:
    with pytest.raises(InvalidInput, match="country code"):
        normalize_phone("0151 12345678")
    assert normalize_phone("0151 12345678", "DE") == "+4915112345678"
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize("typed", ["", "12345", "+49 1", "call me maybe", "+1" + "9" * 40])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_phone(typed, "DE")


def test_numbers_are_shown_grouped() -> None:
    assert display_phone("+4915112345678") == "+49 1511 2345678"


def test_a_reference_is_read_out_in_groups_letters_spelled_digits_named() -> None:
    assert spoken_groups("HD-7K4Q-2M9XC") == ["H D", "7 K 4 Q", "2 M 9 X C"]
    assert spoken_reference("HD-7K4Q-2M9XC") == (
        "Hotel Delta — seven Kilo four Quebec — two Mike nine X-ray Charlie"
    )
