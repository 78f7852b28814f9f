"""Telling the new text of a reply from the history its mail client quoted."""

from __future__ import annotations

import pytest

from inbox.mail.quotes import strip_quoted


def test_gmail_attribution_and_quoted_lines_are_removed() -> None:
    text = (
        "Thanks, that fixed it.\n\nOn Mon, Mar 4, 2024 at 10:02 AM Example Support "
        "<support@example.com> wrote:\n\n> Hello Maria,\n> try again now.\n"
    )
    assert strip_quoted(text) == "Thanks, that fixed it."


def test_attribution_wrapped_over_two_lines_is_recognised() -> None:
    text = (
        "Thanks!\n\nOn Mon, Mar 4, 2024 at 10:02 AM Example Support <\n"
        "support@example.com> wrote:\n\nHello Maria, unquoted history.\n"
    )
    assert strip_quoted(text) == "Thanks!"


@pytest.mark.parametrize(
    "marker",
    [
        "-----Original Message-----",
        "----- Ursprüngliche Nachricht -----",
        "-------- Message d'origine --------",
    ],
)
def test_outlook_original_message_separator_ends_the_new_text(marker: str) -> None:
    text = f"Still broken.\n\n{marker}\nFrom: Support\nSent: Monday\n\nOld text\n"
    assert strip_quoted(text) == "Still broken."


def test_outlook_header_block_after_underscores_ends_the_new_text() -> None:
    text = (
        "Any news?\n\n________________________________\nFrom: Example Support "
        "<support@example.com>\nSent: Monday, 4 March 2024 10:02\nTo: Maria\n"
        "Subject: Refund\n\nThe refund is on its way.\n"
    )
    assert strip_quoted(text) == "Any news?"


def test_german_outlook_header_block_ends_the_new_text() -> None:
    text = (
        "Passt.\n\nVon: Support <support@example.com>\nGesendet: Montag, 4. März 2024 10:02\n"
        "An: Max\nBetreff: Konto\n\nAlter Text\n"
    )
    assert strip_quoted(text) == "Passt."


@pytest.mark.parametrize(
    "attribution",
    [
        "Am 04.03.2024 um 10:02 schrieb Example Support <support@example.com>:",
        "Am Mo., 4. März 2024 um 10:02 Uhr schrieb Example Support <support@example.com>:",
        "Le lun. 4 mars 2024 à 10:02, Example Support <support@example.com> a écrit :",
        "Le 4 mars 2024 à 10:02, Example Support a\u00a0écrit\u202f:",
        "El lun, 4 mar 2024 a las 10:02, Example Support escribió:",
        "On 4 Mar 2024, at 10:02, Example Support <support@example.com> wrote:",
    ],
)
def test_attributions_in_several_languages_end_the_new_text(attribution: str) -> None:
    assert strip_quoted(f"New words.\n\n{attribution}\n> old words\n") == "New words."


def test_signature_delimiter_ends_the_new_text() -> None:
    assert strip_quoted("Hi\n\nplease call me.\n-- \nMaria Lopez\n+49 30 1234") == (
        "Hi\n\nplease call me."
    )


def test_interleaved_reply_keeps_the_unquoted_lines() -> None:
    text = "> Which browser?\nFirefox.\n> Which version?\n125.\n"
    assert strip_quoted(text) == "Firefox.\n125."


def test_text_that_is_all_quote_is_returned_as_it_was() -> None:
    assert strip_quoted("  > only quoted\n> lines\n") == "> only quoted\n> lines"
    assert (
        strip_quoted("On Monday, Support wrote:\n> hello") == "On Monday, Support wrote:\n> hello"
    )


def test_ordinary_sentences_are_not_mistaken_for_history() -> None:
    text = (
        "On second thought, I wrote the wrong number.\nFrom: Berlin, sent yesterday.\n"
        "-- not a signature\nLe code est faux."
    )
    assert strip_quoted(text) == text


def test_a_megabyte_line_is_handled_without_regular_expression_blowup() -> None:
    line = "On " + "x " * 500_000 + "wrote:"
    assert strip_quoted(f"new\n{line}\n> old") == f"new\n{line}"
