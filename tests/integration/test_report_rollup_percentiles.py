"""Medians and 90th percentiles from the rollup's histograms are the exact values: the
histogram only says which bucket holds a rank, and that bucket's values are read exactly."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from inbox.queries.reports.figures import (
    StaleRollup,
    bucket_of,
    median_ranks,
    percentile_rank,
    ranked_seconds,
)
from inbox.queries.reports.sections import median, percentile


def test_buckets_keep_the_order_of_durations_and_put_none_or_less_first() -> None:
    values = [-60, 0, 1, 2, 59, 60, 61, 3599, 3600, 3601, 86_400, 10**8]
    buckets = [bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    assert bucket_of(-60) == bucket_of(0) == 0 < bucket_of(1)
    # About 9 % wide: an hour and 300 seconds more are never in one bucket.
    assert bucket_of(3600) < bucket_of(3900)


@pytest.mark.parametrize("seed", range(20))
def test_ranks_from_histogram_and_one_bucket_equal_ranks_of_the_sorted_values(
    seed: int,
) -> None:
    rnd = random.Random(seed)
    stored = [rnd.choice([rnd.randrange(36_000), 60 * rnd.randrange(120)]) for _ in range(501)]
    exact = [rnd.randrange(-5, 36_000) for _ in range(rnd.randrange(40))]
    everything = sorted(stored + exact)
    histogram = Counter(bucket_of(v) for v in everything)
    read: list[int] = []

    def in_bucket(bucket: int) -> Counter[int]:
        read.append(bucket)
        return Counter(v for v in stored if bucket_of(v) == bucket)

    n = len(everything)
    ranks = [*median_ranks(n), percentile_rank(n, 0.9)]
    found = ranked_seconds(histogram, exact, in_bucket, ranks)
    middle = found[:-1]
    assert sum(middle) / len(middle) == median(everything)
    assert found[-1] == percentile(everything, 0.9)
    assert len(read) <= 3 and len(set(read)) == len(read)  # each bucket read at most once


def test_a_bucket_that_disagrees_with_its_histogram_is_reported_stale() -> None:
    histogram = Counter({bucket_of(100): 2})
    with pytest.raises(StaleRollup):
        ranked_seconds(histogram, [], lambda bucket: Counter({100: 1}), [0])
