"""Mailbox watchers: the edge that turns an IMAP mailbox into stored raw items.

Each watcher holds one IMAP connection, waits with IDLE where the server offers
it (polling otherwise), fetches new UIDs in bounded batches with BODY.PEEK,
stores the raw bytes and the (UIDVALIDITY, last UID) cursor in one commit, and
only then marks the mails seen. Parsing happens later, in ``process_inbound``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from sqlmodel import col, select

import connectors
from connectors import EmailConnector
from connectors.email.imap import ImapMailbox
from connectors.errors import ConnectorError, PermanentConnectorError
from inbox.actions.channels import (
    claim_channel_lease,
    record_channel_health,
    release_channel_lease,
)
from inbox.actions.inbound.store import RawMail, store_raw_mail
from inbox.models import Channel
from workers.runtime import Runtime

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0
IDLE_SECONDS = 10.0
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def open_mailbox(rt: Runtime, channel: Channel) -> ImapMailbox:
    connector = connectors.get(channel.kind)
    if not isinstance(connector, EmailConnector):
        raise PermanentConnectorError(f"{channel.kind} channels have no mailbox to pull")
    return connector.mailbox(rt.box.open(channel.secrets_encrypted))


def sync_mailbox(rt: Runtime, channel_id: int, mailbox: ImapMailbox) -> int:
    """One pass: store every mail after the cursor. Returns how many were new."""
    with rt.db.reading() as session:
        channel = session.get(Channel, channel_id)
        cursor = dict(channel.cursor) if channel else {}
    uidvalidity = mailbox.uidvalidity
    if cursor.get("uidvalidity") != uidvalidity:
        # A new UIDVALIDITY invalidates every UID we know: read the folder again.
        # Message-ID uniqueness keeps the re-read from duplicating anything.
        if cursor:
            log.warning("channel %s: UIDVALIDITY changed, re-reading the folder", channel_id)
        last_uid = 0
    else:
        last_uid = int(cursor.get("last_uid", 0))
    uids = mailbox.uids_after(last_uid)
    stored = 0
    batch_size = rt.settings.ingest_batch_size
    for start in range(0, len(uids), batch_size):
        batch = uids[start : start + batch_size]
        fetched = mailbox.fetch(batch, max_bytes=rt.settings.max_mail_bytes)
        raws = [RawMail(f"{uidvalidity}:{f.uid}", f.raw, f.size, f.truncated) for f in fetched]
        with rt.db.unit_of_work() as session:
            stored += len(
                store_raw_mail(
                    session,
                    channel_id,
                    raws,
                    cursor={"uidvalidity": uidvalidity, "last_uid": batch[-1]},
                )
            )
            record_channel_health(session, channel_id, "ok", polled=True)
        mailbox.mark_seen([f.uid for f in fetched])
    if not uids and cursor.get("uidvalidity") != uidvalidity:
        with rt.db.unit_of_work() as session:
            store_raw_mail(
                session, channel_id, [], cursor={"uidvalidity": uidvalidity, "last_uid": 0}
            )
    return stored


class MailboxWatcher(threading.Thread):
    def __init__(self, rt: Runtime, channel_id: int, stop: threading.Event) -> None:
        super().__init__(name=f"mailbox-{channel_id}", daemon=True)
        self.rt = rt
        self.channel_id = channel_id
        self.stop_event = stop

    def _lease(self) -> bool:
        with self.rt.db.unit_of_work() as session:
            return claim_channel_lease(session, self.channel_id, OWNER, LEASE_SECONDS)

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
                if channel is None or not channel.enabled:
                    return
                with open_mailbox(self.rt, channel) as mailbox:
                    backoff = 1.0
                    wait = IDLE_SECONDS if mailbox.supports_idle else float(channel.poll_seconds)
                    while not self.stop_event.is_set() and self._lease():
                        sync_mailbox(self.rt, self.channel_id, mailbox)
                        mailbox.wait_for_changes(timeout=min(wait, LEASE_SECONDS / 2))
            except PermanentConnectorError as exc:
                self._health("failing", str(exc))
                self.stop_event.wait(60)
            except ConnectorError as exc:
                self._health("degraded", str(exc))
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 60)
            except Exception as exc:
                log.exception("mailbox watcher for channel %s crashed", self.channel_id)
                self._health("degraded", f"{type(exc).__name__}: {exc}")
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 60)
        with self.rt.db.unit_of_work() as session:
            release_channel_lease(session, self.channel_id, OWNER)


class MailboxSupervisor(threading.Thread):
    """Starts a watcher for every enabled email channel, new ones included, without a restart."""

    def __init__(
        self,
        rt: Runtime,
        *,
        interval: float = 3.0,
        watcher: Callable[..., MailboxWatcher] = MailboxWatcher,
    ) -> None:
        super().__init__(name="mailbox-supervisor", daemon=True)
        self.rt = rt
        self.interval = interval
        self.stop_event = threading.Event()
        self.watchers: dict[int, MailboxWatcher] = {}
        self._watcher = watcher

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                with self.rt.db.reading() as session:
                    ids = session.exec(
                        select(Channel.id).where(
                            Channel.kind == "email", col(Channel.enabled).is_(True)
                        )
                    ).all()
                for channel_id in ids:
                    if channel_id is None:
                        continue
                    current = self.watchers.get(channel_id)
                    if current is None or not current.is_alive():
                        watcher = self._watcher(self.rt, channel_id, self.stop_event)
                        self.watchers[channel_id] = watcher
                        watcher.start()
            except Exception:
                log.exception("mailbox supervisor pass failed")
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        for watcher in self.watchers.values():
            watcher.join(timeout=IDLE_SECONDS + 5)
