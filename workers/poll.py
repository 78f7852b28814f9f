"""``inbox poll``: one pass over the pulled channels, filed on the path ``inbox serve`` uses.

Reading, parsing and filing overlap as they do in a running desk: each batch the watcher
stores is handed, on commit, to a filing thread, which parses it (in the parser processes)
and files it in one transaction (``workers.filing``) while the next batch is read. A second
filing thread lets one batch be parsed while another is written.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

from sqlmodel import col, select

import connectors
from inbox.errors import NotFound
from inbox.events import Event, InboundStored
from inbox.models import InboundItem
from inbox.queries.social import pulled_channels
from workers.filing import file_inbound
from workers.pulling import open_pull, sync_channel
from workers.runtime import Runtime

FILING_THREADS = 2


def poll_channels(rt: Runtime, *, channel_name: str | None = None) -> list[str]:
    """Read every enabled pulled channel (or the one named) once and file what is waiting;
    a line per channel says what happened."""
    with rt.db.reading() as session:
        channels = pulled_channels(session, connectors.pulled_kinds(), name=channel_name)
    if channel_name and not channels:
        raise NotFound(f"no enabled channel read by pulling named {channel_name!r}")
    filing = _Filing(rt)
    rt.db.on_commit(filing.stored)
    lines = []
    try:
        for channel in channels:
            channel_id = channel.id or 0
            filing.start()
            with rt.db.reading() as session:  # left pending by an earlier run
                filing.submit(
                    [
                        item_id or 0
                        for item_id in session.exec(
                            select(InboundItem.id)
                            .where(
                                InboundItem.channel_id == channel_id,
                                InboundItem.state == "pending",
                            )
                            .order_by(col(InboundItem.id))
                        )
                    ]
                )
            with open_pull(rt, channel) as source:
                fetched = sync_channel(rt, channel_id, source)
            counts = filing.finish()
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to file"
            lines.append(f"{channel.name}: {fetched} new mails fetched; {summary}")
    finally:
        # A pass cut short (a mailbox refusing us) leaves no hook behind on later commits.
        rt.db.off_commit(filing.stored)
        filing.close()
    return lines


class _Filing:
    """The filing threads of one channel's pass, and what they filed."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pool = ThreadPoolExecutor(FILING_THREADS, thread_name_prefix="poll-filing")
        self.lock = threading.Lock()
        self.jobs: list[Future[None]] = []
        self.retries: list[int] = []
        self.counts: Counter[str] = Counter()
        self.active = False

    def start(self) -> None:
        self.active = True
        self.counts = Counter()

    def stored(self, events: list[Event]) -> None:
        """On commit of a stored batch (and of every filing, which stores nothing)."""
        if self.active:
            self.submit([e.item_id for e in events if isinstance(e, InboundStored)])

    def submit(self, item_ids: list[int]) -> None:
        size = self.rt.settings.ingest_batch_size
        for start in range(0, len(item_ids), size):
            chunk = item_ids[start : start + size]
            with self.lock:
                self.jobs.append(self.pool.submit(self._file, chunk))

    def _file(self, item_ids: list[int]) -> None:
        outcomes = file_inbound(self.rt, item_ids, self._again)
        with self.lock:
            for outcome in outcomes.values():
                self.counts["new tickets" if outcome.new_ticket else outcome.state] += 1

    def _again(self, ids: list[int], /, *, delayed: bool) -> None:
        with self.lock:
            self.retries.extend(ids)

    def finish(self) -> Counter[str]:
        """Wait for every job, then try failed items one at a time until each is filed or
        quarantined (``file_inbound`` counts the attempts)."""
        while True:
            with self.lock:
                jobs, self.jobs = self.jobs, []
                retries, self.retries = self.retries, []
            if not jobs and not retries:
                break
            for job in jobs:
                job.result()
            for item_id in retries:
                self._file([item_id])
        self.active = False
        return self.counts

    def close(self) -> None:
        self.pool.shutdown(wait=True)
