"""The outbox: written with its cause, claimed by one worker, finished once.

Retries wait in the table (``next_attempt_at``), not in the broker, so a long
SMTP outage survives a broker flush and restarts of every process. Every claim counts an
attempt, whether the send then fails or its worker dies: after ``MAX_ATTEMPTS`` the row is
``failed`` and waits on /admin/health to be retried or discarded.

Mail that carries a secret (a one-time code, a password-reset link) waits encrypted
(``secret_expires_at`` is set; the sender opens it with ``inbox.signing.OutboxSeal``), is not
sent once the secret has expired, and has its bytes wiped as soon as it is sent, fails for
good, or expires (``wipe_expired_secrets``, swept by the scheduler). The row stays, without
them, for the rate limits that count mail sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from inbox.actions.reply_files import StoredMailFile, files_of_messages, mail_as_sent
from inbox.actions.rows import Row, insert_rows
from inbox.blobs import BlobStore
from inbox.events import OutboxQueued, record
from inbox.models import Message, Outbox, utcnow

MAX_ATTEMPTS = 10
# Longer than one SMTP attempt may take (connector timeout 30 s), short enough that a send
# interrupted by a crash is retried soon.
SENDING_LEASE = timedelta(seconds=90)
ENQUEUE_LEASE = timedelta(seconds=60)
# Rows whose message may carry files: an agent's reply (by email, or mailed to a chat visitor
# who has gone). Their files are attached when the mail is sent (``ClaimedDelivery.as_sent``).
KINDS_WITH_FILES = frozenset({"reply"})


def queue_outbound(
    session: Session,
    *,
    key: str,
    kind: str,
    channel_id: int | None,
    ticket_id: int | None,
    message_id: int | None,
    sender: str,
    recipients: list[str],
    payload: bytes,
    secret_expires_at: datetime | None = None,
) -> Outbox:
    """One row to send. With ``secret_expires_at``, ``payload`` must be sealed already
    (``OutboxSeal.seal``): the mail carries a secret that is useless after that time."""
    item = Outbox(
        **outbox_row(key, kind, channel_id, ticket_id, message_id, sender, recipients, payload),
        secret_expires_at=secret_expires_at,
    )
    session.add(item)
    session.flush()
    record(session, OutboxQueued(item.id or 0))
    return item


def queue_outbound_many(session: Session, rows: Sequence[Row]) -> list[int]:
    """Many rows built by ``outbox_row`` in one statement; their ids in order."""
    ids = insert_rows(session, Outbox, rows)
    for outbox_id in ids:
        record(session, OutboxQueued(outbox_id))
    return ids


def outbox_row(
    key: str,
    kind: str,
    channel_id: int | None,
    ticket_id: int | None,
    message_id: int | None,
    sender: str,
    recipients: list[str],
    payload: bytes,
) -> Row:
    return {
        "key": key,
        "kind": kind,
        "channel_id": channel_id,
        "ticket_id": ticket_id,
        "message_id": message_id,
        "sender": sender,
        "recipient": recipients[0] if recipients else "",
        "recipients": recipients,
        "payload": payload,
        # Enqueued right after the commit; swept later if that job is lost.
        "lease_until": utcnow() + ENQUEUE_LEASE,
    }


@dataclass(frozen=True)
class ClaimedDelivery:
    outbox_id: int
    channel_id: int | None
    message_id: int | None
    sender: str
    recipients: tuple[str, ...]
    payload: bytes
    # The payload is sealed (``OutboxSeal``): open it to send, wipe it once sent.
    sealed: bool = False
    # The files of its message, attached to the mail as it is sent.
    files: tuple[StoredMailFile, ...] = ()

    def as_sent(self, payload: bytes, blobs: BlobStore) -> bytes:
        """What goes on the wire: the (opened) payload with the message's files, read from
        the blob store now; ``ValueError`` when one is gone."""
        return mail_as_sent(payload, self.files, blobs)


def claim_deliveries(session: Session, outbox_ids: Sequence[int]) -> list[ClaimedDelivery]:
    """Take rows for sending, in id order, in one statement; rows that are sent, failed, not
    due, someone else's, or carry a secret that has expired are left out."""
    now = utcnow()
    result = session.execute(
        update(Outbox)
        .where(
            col(Outbox.id).in_(outbox_ids),
            col(Outbox.next_attempt_at) <= now,
            col(Outbox.attempts) < MAX_ATTEMPTS,
            or_(
                col(Outbox.state) == "queued",
                (col(Outbox.state) == "sending") & (col(Outbox.lease_until) < now),
            ),
            or_(col(Outbox.secret_expires_at).is_(None), col(Outbox.secret_expires_at) > now),
        )
        .values(state="sending", lease_until=now + SENDING_LEASE, attempts=Outbox.attempts + 1)
        .returning(
            col(Outbox.id),
            col(Outbox.channel_id),
            col(Outbox.message_id),
            col(Outbox.sender),
            col(Outbox.recipients),
            col(Outbox.payload),
            col(Outbox.secret_expires_at),
            col(Outbox.kind),
        )
        .execution_options(synchronize_session=False)
    )
    rows = result.all()
    files = files_of_messages(
        session, [row[2] for row in rows if row[7] in KINDS_WITH_FILES and row[2] is not None]
    )
    claimed = [
        ClaimedDelivery(
            outbox_id=row[0],
            channel_id=row[1],
            message_id=row[2],
            sender=row[3],
            recipients=tuple(row[4]),
            payload=row[5],
            sealed=row[6] is not None,
            files=files.get(row[2], ()) if row[7] in KINDS_WITH_FILES else (),
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda item: item.outbox_id)


def record_delivery_sent(
    session: Session, claimed: ClaimedDelivery, *, external_id: str = ""
) -> None:
    """``external_id``: the platform's id of what was sent, when it gave one (a social
    platform's message id), kept on the message for the statuses that name it later."""
    now = utcnow()
    values: dict[str, Any] = {"state": "sent", "sent_at": now, "lease_until": None}
    if claimed.sealed:  # delivered: the secret need not wait here any more
        values.update(payload=b"", wiped_at=now)
    session.execute(
        update(Outbox)
        .where(col(Outbox.id) == claimed.outbox_id)
        .values(last_error=None, **values)
        .execution_options(synchronize_session=False)
    )
    if claimed.message_id is not None:
        known = {"external_id": external_id} if external_id else {}
        session.execute(
            update(Message)
            .where(col(Message.id) == claimed.message_id)
            .values(delivery="sent", delivery_error=None, **known)
            .execution_options(synchronize_session=False)
        )


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 3600))


def record_delivery_failure(
    session: Session,
    outbox_id: int,
    error: str,
    *,
    permanent: bool,
    retry_base_seconds: float,
    retry_after: float | None = None,
) -> None:
    """``retry_after``: the seconds the platform asked us to wait, when it said; the next
    attempt waits at least that long, and at least the backoff."""
    item = session.get(Outbox, outbox_id)
    if item is None:
        return
    item.last_error = error[:2000]
    item.lease_until = None
    expired = item.secret_expires_at is not None and (
        item.wiped_at is not None or item.secret_expires_at <= utcnow()
    )
    if permanent or expired or item.attempts >= MAX_ATTEMPTS:
        item.state = "failed"
        if item.secret_expires_at is not None:  # never to be sent: nothing to keep
            item.payload, item.wiped_at = b"", utcnow()
        _set_message_delivery(session, item, "failed", error)
    else:
        item.state = "queued"
        delay = retry_delay(item.attempts, retry_base_seconds)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=min(retry_after, 86400)))
        item.next_attempt_at = utcnow() + delay
        _set_message_delivery(session, item, "queued", error)
    session.add(item)


def _set_message_delivery(session: Session, item: Outbox, state: str, error: str | None) -> None:
    if item.message_id is None:
        return
    message = session.get(Message, item.message_id)
    if message is not None:
        message.delivery = state
        message.delivery_error = error[:1000] if error else None
        session.add(message)


def release_enqueue_leases(session: Session, outbox_ids: Sequence[int]) -> None:
    """Rows whose job the broker did not take: the next sweep enqueues them again at once,
    instead of after ``ENQUEUE_LEASE``. A job that did reach the broker finds its row claimed
    or sent, or claims it first: a row is sent once either way."""
    if outbox_ids:
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(outbox_ids), col(Outbox.state) == "queued")
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )


def sweep_due_outbox(session: Session, *, limit: int = 500) -> list[int]:
    """Rows due and not recently enqueued: lease them for a minute and return their ids."""
    now = utcnow()
    ids = list(
        session.exec(
            select(Outbox.id)
            .where(
                or_(
                    (col(Outbox.state) == "queued") & (col(Outbox.next_attempt_at) <= now),
                    col(Outbox.state) == "sending",
                ),
                or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
                col(Outbox.wiped_at).is_(None),
            )
            .order_by(col(Outbox.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )
    if ids:
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(ids), col(Outbox.state) == "queued")
            .values(lease_until=now + ENQUEUE_LEASE)
        )
        # Its worker died while sending it, on every attempt: given up.
        abandoned = session.exec(
            select(Outbox.id).where(
                col(Outbox.id).in_(ids),
                col(Outbox.state) == "sending",
                col(Outbox.attempts) >= MAX_ATTEMPTS,
            )
        ).all()
        for outbox_id in abandoned:
            if outbox_id is not None:
                record_delivery_failure(
                    session,
                    outbox_id,
                    f"its worker stopped while sending it, {MAX_ATTEMPTS} times in a row",
                    permanent=True,
                    retry_base_seconds=0,
                )
        ids = [i for i in ids if i not in set(abandoned)]
    return [i for i in ids if i is not None]


EXPIRED_UNSENT = "not sent before the secret it carries expired"


def wipe_expired_secrets(session: Session, *, now: datetime | None = None) -> int:
    """Wipes the bytes of mail whose secret has expired, sent or not; one still waiting is
    failed, since what it carries no longer works. Returns how many rows were wiped."""
    now = now or utcnow()
    waiting = col(Outbox.state).in_(("queued", "sending"))
    result = session.execute(
        update(Outbox)
        .where(
            col(Outbox.secret_expires_at) <= now,
            col(Outbox.wiped_at).is_(None),
        )
        .values(
            payload=b"",
            wiped_at=now,
            lease_until=None,
            state=case((waiting, "failed"), else_=col(Outbox.state)),
            last_error=case((waiting, EXPIRED_UNSENT), else_=col(Outbox.last_error)),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
