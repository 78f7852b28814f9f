"""Watchers of pulled channels: the edge that turns a mailbox (or any channel whose connector
pulls) into stored raw items.

Each watcher holds one connection from its connector (``open_pull``), waits for the platform
to announce changes where it can (IMAP IDLE; polling otherwise), reads what arrived since the
channel's cursor in bounded batches, stores each batch raw with the cursor after it in one
commit, and only then confirms it to the platform (IMAP: ``\\Seen``). Filing happens later,
in ``process_inbound``. The watchers know no channel kind: the connector does.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

import connectors
from connectors.base import PullSession
from connectors.errors import ConnectorError, PermanentConnectorError
from inbox.actions.channels import (
    claim_channel_lease,
    record_channel_health,
    release_channel_lease,
)
from inbox.actions.inbound.store import store_inbound
from inbox.models import Channel
from inbox.queries.social import is_pushed, pulled_channels
from workers.runtime import Runtime

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0
IDLE_SECONDS = 10.0
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def open_pull(rt: Runtime, channel: Channel) -> PullSession:
    session = connectors.get(channel.kind).open_pull(rt.box.open(channel.secrets_encrypted))
    if session is None:
        raise PermanentConnectorError(f"{channel.kind} channels are not read by pulling")
    return session


def sync_channel(rt: Runtime, channel_id: int, source: PullSession) -> int:
    """One pass: store everything after the cursor. Returns how many items were new."""
    with rt.db.reading() as session:
        channel = session.get(Channel, channel_id)
        cursor = dict(channel.cursor) if channel else {}
    stored = 0
    for pulled in source.read_since(
        cursor,
        batch_size=rt.settings.ingest_batch_size,
        max_bytes=rt.settings.max_mail_bytes,
        batch_bytes=rt.settings.ingest_batch_bytes,
    ):
        with rt.db.unit_of_work() as session:
            stored += len(store_inbound(session, channel_id, pulled.items, cursor=pulled.cursor))
            record_channel_health(session, channel_id, "ok", polled=True)
        source.confirm(pulled)
        # Let go of this batch's bytes before the next batch is read, not after.
        del pulled
    return stored


class PullWatcher(threading.Thread):
    def __init__(self, rt: Runtime, channel_id: int, stop: threading.Event) -> None:
        super().__init__(name=f"pull-{channel_id}", daemon=True)
        self.rt = rt
        self.channel_id = channel_id
        self.stop_event = stop
        self.source: PullSession | None = None

    def wake(self) -> None:
        """Cut short the wait for changes, once ``stop_event`` is set."""
        source = self.source
        if source is not None:
            source.wake()

    def _lease(self) -> bool:
        with self.rt.db.unit_of_work() as session:
            return claim_channel_lease(session, self.channel_id, OWNER, LEASE_SECONDS)

    def _still_pulled(self) -> bool:
        """Whether the channel is still there, enabled, and read by pulling (not set to a
        webhook since the watcher started)."""
        with self.rt.db.reading() as session:
            channel = session.get(Channel, self.channel_id)
            return channel is not None and channel.enabled and not is_pushed(channel.config)

    def _health(self, health: str, detail: str) -> None:
        with self.rt.db.unit_of_work() as session:
            record_channel_health(session, self.channel_id, health, detail)

    def run(self) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            if not self._lease():
                self.stop_event.wait(LEASE_SECONDS / 3)
                continue
            try:
                with self.rt.db.reading() as session:
                    channel = session.get(Channel, self.channel_id)
                if channel is None or not channel.enabled or is_pushed(channel.config):
                    break
                with open_pull(self.rt, channel) as source:
                    self.source = source
                    backoff = 1.0
                    wait = IDLE_SECONDS if source.pushes_changes else float(channel.poll_seconds)
                    # Checked after self.source is set: a stop from now on wakes the wait.
                    while not self.stop_event.is_set() and self._lease():
                        sync_channel(self.rt, self.channel_id, source)
                        source.wait_for_changes(timeout=min(wait, LEASE_SECONDS / 2))
            except Exception as exc:
                if self.stop_event.is_set():  # a session cut short by the stop
                    break
                if not self._still_pulled():  # set to a webhook: Telegram refuses to be polled
                    break
                if isinstance(exc, PermanentConnectorError):
                    self._health("failing", str(exc))
                    self.stop_event.wait(60)
                    continue
                wait = backoff
                if isinstance(exc, ConnectorError):
                    self._health("degraded", str(exc))
                    # The platform's own wait (a 429's retry_after, a rate-limit reset).
                    wait = max(backoff, min(exc.retry_after or 0.0, 900.0))
                else:
                    log.exception("watcher of channel %s crashed", self.channel_id)
                    self._health("degraded", f"{type(exc).__name__}: {exc}")
                self.stop_event.wait(wait)
                backoff = min(backoff * 2, 60)
            finally:
                self.source = None
        with self.rt.db.unit_of_work() as session:
            release_channel_lease(session, self.channel_id, OWNER)


class PullSupervisor(threading.Thread):
    """Starts a watcher for every enabled pulled channel, new ones included, without a
    restart; a channel set to a webhook has none (its watcher ends)."""

    def __init__(
        self,
        rt: Runtime,
        *,
        interval: float = 3.0,
        watcher: Callable[..., PullWatcher] = PullWatcher,
    ) -> None:
        super().__init__(name="pull-supervisor", daemon=True)
        self.rt = rt
        self.interval = interval
        self.stop_event = threading.Event()
        self.watchers: dict[int, PullWatcher] = {}
        self._watcher = watcher

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                with self.rt.db.reading() as session:
                    ids = [c.id for c in pulled_channels(session, connectors.pulled_kinds())]
                for channel_id in ids:
                    if channel_id is None:
                        continue
                    current = self.watchers.get(channel_id)
                    if current is None or not current.is_alive():
                        watcher = self._watcher(self.rt, channel_id, self.stop_event)
                        self.watchers[channel_id] = watcher
                        watcher.start()
            except Exception:
                log.exception("pull supervisor pass failed")
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        for watcher in self.watchers.values():
            watcher.wake()
        for watcher in self.watchers.values():
            watcher.join(timeout=IDLE_SECONDS + 5)
