"""The help centre's search limit per network address: a sliding window, per address."""

from __future__ import annotations

import pytest

from inbox.errors import Throttled
from inbox.web.help.throttle import AddressWindow


def test_an_address_gets_its_limit_per_window_and_others_are_not_slowed() -> None:
    window = AddressWindow(limit=2, window=60.0)
    window.check("192.0.2.1", now=0.0)
    window.check("192.0.2.1", now=10.0)
    with pytest.raises(Throttled):
        window.check("192.0.2.1", now=20.0)
    window.check("192.0.2.2", now=20.0)
    window.check("192.0.2.1", now=61.0)  # the first request has left the window


def test_only_so_many_addresses_are_remembered() -> None:
    window = AddressWindow(limit=1, window=60.0, max_addresses=2)
    for address in ("a", "b", "c"):
        window.check(address, now=0.0)
    window.check("a", now=1.0)  # forgotten, so counted afresh
    with pytest.raises(Throttled):
        window.check("c", now=1.0)
