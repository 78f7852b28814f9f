"""A bound on how fast one network address may search the help centre, in this process.

Search and suggestions are public and cost a full-text query each; a script hammering them
from one address is answered 429 once it has made ``limit`` requests within ``window``
seconds. Kept in memory (a write per search would cost more than the search), so each web
process counts on its own; the counts of at most ``max_addresses`` addresses are kept, the
least recently seen forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from inbox.errors import Throttled


class AddressWindow:
    def __init__(self, limit: int, window: float, max_addresses: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_addresses = max_addresses
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str, now: float | None = None) -> None:
        """Counts one request from ``address``; Throttled when it is one too many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            self._seen[address] = times
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)
            if len(times) >= self.limit:
                raise Throttled("too many searches from your address; try again in a minute")
            times.append(now)
