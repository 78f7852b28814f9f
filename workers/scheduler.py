"""The scheduler: finds due work in the tables and enqueues it.

Safe to run more than once: sweeps lease what they pick (``SKIP LOCKED`` on
PostgreSQL, one writer at a time on SQLite), and actors claim before acting.
"""

from __future__ import annotations

import logging
import threading
import time

from inbox.actions.inbound.store import sweep_pending_inbound
from inbox.actions.outbox import sweep_due_outbox, wipe_expired_secrets
from workers.blob_sweep import ensure_blob_sweep
from workers.dispatch import enqueue_inbound, enqueue_outbox, release_outbox_leases
from workers.health import WATCH_EVERY, watch_health
from workers.runtime import Runtime
from workers.search_upkeep import ensure_search_upkeep
from workers.sla_actors import ensure_report_refresh
from workers.timers import run_due_timers

log = logging.getLogger(__name__)


def run_due_work(rt: Runtime) -> int:
    with rt.db.unit_of_work() as session:
        # Codes and reset links that expired leave the outbox before anything is sent.
        wipe_expired_secrets(session)
        outbox_ids = sweep_due_outbox(session)
        inbound_ids = sweep_pending_inbound(session)
    try:
        enqueue_outbox(outbox_ids)
    except Exception:
        release_outbox_leases(rt.db, outbox_ids)  # the broker is away: try on the next pass
        raise
    # Left behind by a lost job or a killed worker: one job each, so that a mail which
    # brings its worker down cannot take other mail with it again.
    enqueue_inbound(inbound_ids, per_job=1)
    return len(outbox_ids) + len(inbound_ids) + run_due_timers(rt)


class Scheduler(threading.Thread):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.rt = rt
        self.stop_event = threading.Event()
        self.upkeep_set = False
        self.next_health_check = 0.0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                if not self.upkeep_set:
                    ensure_report_refresh(self.rt.db)
                    ensure_search_upkeep(self.rt.db)
                    ensure_blob_sweep(self.rt.db)
                    self.upkeep_set = True
                run_due_work(self.rt)
            except Exception:
                log.exception("scheduler pass failed")
            self._watch_health()
            self.stop_event.wait(self.rt.settings.scheduler_interval_seconds)

    def _watch_health(self) -> None:
        """Once a minute, apart from the sweeps: a failing look at the desk stops no work."""
        if time.monotonic() < self.next_health_check:
            return
        self.next_health_check = time.monotonic() + WATCH_EVERY.total_seconds()
        try:
            watch_health(self.rt)
        except Exception:
            log.exception("health check failed")

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)
