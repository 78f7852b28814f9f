"""Password checks cost the same whoever is asked about."""

from __future__ import annotations


def test_the_stand_in_password_hash_costs_what_a_real_one_costs() -> None:
    """Unknown addresses are checked against a written-out hash; it must keep the parameters
    new hashes get, or an unknown address would answer faster than a wrong password."""
    from argon2 import extract_parameters

    from inbox.actions.signin.agents import _DUMMY_HASH, _hasher

    assert extract_parameters(_DUMMY_HASH) == extract_parameters(_hasher.hash("x"))
