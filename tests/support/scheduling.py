"""The order of a parallel run: slow tests first.

xdist's ``worksteal`` hands each worker one of its contiguous blocks of the collection, and a
worker that runs dry steals from the end of another's block. A slow test near the end of a
block is then the last thing running while the other workers idle; the tests marked ``slow``
go to the starts of the blocks instead, spread evenly over them.
"""

from __future__ import annotations

import itertools

import pytest


@pytest.hookimpl(trylast=True)  # after ``-m`` and ``-k`` have deselected what they do
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    if workers > 1:
        items[:] = slow_first(items, workers)


def slow_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """Every worker computes the same order from the same collection, as xdist requires."""
    slow = [item for item in items if item.get_closest_marker("slow")]
    rest = iter([item for item in items if not item.get_closest_marker("slow")])
    sizes, left = [], len(items)
    for remaining in range(workers, 0, -1):  # as worksteal splits the collection
        sizes.append(left // remaining)
        left -= sizes[-1]
    ordered: list[pytest.Item] = []
    for block, size in enumerate(sizes):
        mine = slow[block::workers]
        ordered += mine + list(itertools.islice(rest, max(0, size - len(mine))))
    return ordered + list(rest)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes 15 s or more; started first in a parallel run")
