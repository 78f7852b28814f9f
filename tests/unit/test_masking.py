"""Masking card numbers, one-time codes and passwords before anything is stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.rules.masking import (
    CARD,
    CODE,
    PASSWORD,
    PASSWORD_HIDDEN,
    luhn_valid,
    mask_sensitive,
    masking_note,
)

VISA = "4111111111111111"  # Luhn-valid test numbers
AMEX = "378282246310005"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (VISA, "••••••••••••1111"),
        ("4111 1111 1111 1111", "•••• •••• •••• 1111"),
        ("4111-1111-1111-1111", "••••-••••-••••-1111"),
        ("3782 822463 10005", "•••• •••••• •0005"),
        ("6011000990139424", "••••••••••••9424"),
        ("4000056655665556122", "•••••••••••••••6122"),  # 19 digits, Luhn-valid
    ],
)
def test_a_card_number_keeps_only_its_last_four_digits(written: str, shown: str) -> None:
    assert luhn_valid(written.replace(" ", "").replace("-", ""))
    masked = mask_sensitive(f"my card is {written}, please check")
    assert masked.text == f"my card is {shown}, please check"
    assert masked.found == (CARD,)


def test_numbers_that_fail_the_luhn_check_or_the_length_stay_as_written() -> None:
    for text in ("order 4111111111111112", "call +44 20 7946 0958", "ref 123456789012", "2026"):
        assert mask_sensitive(text).text == text
        assert not mask_sensitive(text).changed


def test_a_card_beside_other_numbers_in_one_run_is_found_and_its_neighbours_kept() -> None:
    masked = mask_sensitive(f"12 {VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]} 2027")
    assert masked.text == "12 •••• •••• •••• 1111 2027"


def test_two_cards_in_one_message_are_both_masked() -> None:
    masked = mask_sensitive(f"{VISA} and {AMEX}")
    assert masked.text == "••••••••••••1111 and •••••••••••0005"
    assert masked.found == (CARD,)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("my code is 123456", "my code is ••••••"),
        ("Code: 123 456", "Code: ••• •••"),
        ("the OTP 4821 did not work", "the OTP •••• did not work"),
        ("PIN=0042", "PIN=••••"),
        ("verification code 99887766", "verification code ••••••••"),
    ],
)
def test_a_one_time_code_after_its_word_is_masked(written: str, shown: str) -> None:
    masked = mask_sensitive(written)
    assert masked.text == shown
    assert masked.found == (CODE,)


def test_digits_without_a_word_for_a_code_are_not_a_code() -> None:
    assert mask_sensitive("I paid 123456 pence on 2026-12-01").text == (
        "I paid 123456 pence on 2026-12-01"
    )


@pytest.mark.parametrize(
    "written",
    ["my password is hunter2", "password: hunter2", "Password=hunter2", "pwd hunter2"],
)
def test_the_word_after_password_is_hidden(written: str) -> None:
    masked = mask_sensitive(written)
    assert "hunter2" not in masked.text
    assert PASSWORD_HIDDEN in masked.text
    assert masked.found == (PASSWORD,)


@pytest.mark.parametrize(
    "written",
    [
        "my password is not working",
        "I forgot my password and the reset link expired",
        "password reset please",
        "the password was wrong twice",
    ],
)
def test_ordinary_words_after_password_are_left_alone(written: str) -> None:
    assert mask_sensitive(written).text == written


def test_everything_found_is_named_once_for_the_note() -> None:
    masked = mask_sensitive(f"card {VISA}, code 123456, password: s3cret, again {VISA}")
    assert masked.found == (CARD, CODE, PASSWORD)
    note = masking_note(masked.found)
    assert "card number, one-time code and password" in note
    assert masking_note(()) == ""


def test_masking_twice_changes_nothing_more() -> None:
    once = mask_sensitive(f"card {VISA} code 123456 password: s3cret").text
    assert mask_sensitive(once).text == once
    assert not mask_sensitive(once).changed


@given(st.text(max_size=200))
def test_no_text_crashes_the_masking_and_no_luhn_card_survives_it(text: str) -> None:
    out = mask_sensitive(text).text
    for run in __import__("re").findall(r"\d{13,19}", out):
        assert not luhn_valid(run) or len(run) > 19
