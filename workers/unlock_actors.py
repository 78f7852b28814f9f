"""The account-unlock workflow: thin handlers on timers that re-read the request each time.

``account_unlock`` calls the account directory; transient errors come back with backoff,
permanent ones end the request. ``unlock_followup`` asks the customer, a day later, whether
they can sign in again.
"""

from __future__ import annotations

from datetime import datetime

from inbox.accounts import DirectoryRefused, DirectoryUnavailable
from inbox.actions.timers import ClaimedTimer
from inbox.actions.unlock import (
    record_unlock_failure,
    record_unlock_success,
    send_unlock_followup,
    start_unlock_attempt,
)
from inbox.models import utcnow
from workers.accounts import account_directory
from workers.runtime import Runtime
from workers.timers import timer_handler


@timer_handler("account_unlock")
def unlock_account(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    request_id = int(timer.payload["unlock_request_id"])
    with rt.db.unit_of_work() as session:
        job = start_unlock_attempt(session, request_id)
    if job is None:
        return None
    try:
        account = account_directory(rt).unlock(
            job.account_id, idempotency_key=job.idempotency_key, reason=job.reason
        )
    except (DirectoryUnavailable, DirectoryRefused) as exc:
        with rt.db.unit_of_work() as session:
            return record_unlock_failure(
                session,
                request_id,
                str(exc),
                permanent=isinstance(exc, DirectoryRefused),
                retry_base_seconds=rt.settings.retry_base_seconds,
                now=utcnow(),
            )
    with rt.db.unit_of_work() as session:
        record_unlock_success(session, rt.settings, request_id, account, now=utcnow())
    return None


@timer_handler("unlock_followup")
def follow_up_unlock(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        send_unlock_followup(session, rt.settings, int(timer.payload["unlock_request_id"]))
    return None
