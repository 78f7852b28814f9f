from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.rules.references import (
    ALPHABET,
    BODY_LENGTH,
    check_symbol,
    find_reference_tags,
    new_reference,
    normalize_reference,
)

PREFIX = "HD"


def _symbols(reference: str) -> str:
    return reference.replace("-", "")[len(PREFIX) :]


def _single_errors(symbols: str) -> list[str]:
    return [
        symbols[:position] + wrong + symbols[position + 1 :]
        for position, wrong in itertools.product(range(len(symbols)), ALPHABET)
        if wrong != symbols[position]
    ]


def _neighbour_swaps(symbols: str) -> list[str]:
    return [
        symbols[:i] + symbols[i + 1] + symbols[i] + symbols[i + 2 :]
        for i in range(len(symbols) - 1)
        if symbols[i] != symbols[i + 1]
    ]


def test_new_references_are_random_and_valid() -> None:
    refs = {new_reference(PREFIX) for _ in range(2000)}
    assert len(refs) == 2000
    for ref in refs:
        assert normalize_reference(ref, PREFIX) == ref
        assert not set(_symbols(ref)) & set("ILOU")


@given(st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH))
def test_every_single_wrong_symbol_is_detected(body: str) -> None:
    for typo in _single_errors(body + check_symbol(body)):
        assert normalize_reference(typo, PREFIX) is None


@given(st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH))
def test_every_swap_of_neighbours_is_detected(body: str) -> None:
    for swapped in _neighbour_swaps(body + check_symbol(body)):
        assert normalize_reference(swapped, PREFIX) is None


def test_every_typo_of_many_references_is_detected() -> None:
    """Not a sample of typos: every possible one, on 300 references."""
    for _ in range(300):
        symbols = _symbols(new_reference(PREFIX))
        for typo in _single_errors(symbols) + _neighbour_swaps(symbols):
            assert normalize_reference(typo, PREFIX) is None


@pytest.mark.parametrize(
    "spoken",
    ["{ref}", "{lower}", "{compact}", "{compact_lower}", "{spaced}", "{no_prefix}", "  {ref}  "],
)
def test_tolerated_spellings_are_accepted(spoken: str) -> None:
    ref = new_reference(PREFIX)
    compact = ref.replace("-", "")
    text = spoken.format(
        ref=ref,
        lower=ref.lower(),
        compact=compact,
        compact_lower=compact.lower(),
        spaced=" ".join(compact),
        no_prefix=_symbols(ref),
    )
    assert normalize_reference(text, PREFIX) == ref


def test_o_reads_as_zero_and_i_or_l_as_one() -> None:
    body = "01234567"
    ref = f"{PREFIX}-0123-4567{check_symbol(body)}"
    assert normalize_reference(ref.replace("0", "O"), PREFIX) == ref
    assert normalize_reference(ref.replace("1", "I"), PREFIX) == ref
    assert normalize_reference(ref.replace("1", "l"), PREFIX) == ref


@pytest.mark.parametrize(
    "text", ["", "HD-", "HD-1234", "HD-UUUU-UUUUU", "hello world", "HD-1234-56789-0"]
)
def test_garbage_is_rejected(text: str) -> None:
    assert normalize_reference(text, PREFIX) is None


def test_subject_tag_is_found_in_any_spelling() -> None:
    ref = new_reference(PREFIX)
    assert find_reference_tags(f"Re: [{ref}] Locked out", PREFIX) == [ref]
    assert find_reference_tags(f"AW: [{ref.lower()}] Locked out", PREFIX) == [ref]
    assert find_reference_tags("Re: [HD-0000-00001] nothing valid", PREFIX) == []
