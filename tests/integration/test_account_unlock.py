"""Account unlock: every defence of THREATS.md, the HTTP account directory against a real
local service, and the whole workflow on an in-process Dramatiq worker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import dramatiq
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import col, select

from connectors.accounts import AccountServiceClient
from connectors.errors import PermanentConnectorError, TransientConnectorError
from inbox.accounts import Account, DirectoryRefused
from inbox.actions.calls import CallDetails, log_call
from inbox.actions.directory import EmbeddedDirectory, add_directory_account
from inbox.actions.unlock import (
    ACCOUNT_LIMIT,
    AGENT_LIMIT,
    prove_identity_by_call,
    record_code_check,
    request_account_unlock,
)
from inbox.app import create_app
from inbox.db import Database
from inbox.errors import DomainError, PermissionDenied, Throttled
from inbox.models import (
    AgentSession,
    AuditEvent,
    DirectoryCode,
    IdentityProof,
    Message,
    Outbox,
    Ticket,
    Timer,
    UnlockRequest,
    utcnow,
)
from inbox.settings import Settings, load_settings
from tests.support.account_service import AccountService
from tests.support.desk import (
    agent_by_email,
    confirm_second_factor,
    ingest,
    mail,
    make_agent,
    make_channel,
    outbox_mail,
    signed_in_session,
)
from tests.support.desks import InProcessDesk, drain
from tests.support.smtp_peer import SmtpPeer
from tests.support.web import csrf_token, sign_in
from workers.accounts import HttpDirectory
from workers.runtime import Runtime
from workers.timers import run_due_timers

ALL_CHECKS = ("date_of_birth", "postcode_on_file", "last_payment_amount")


@dataclass
class Desk:
    db: Database
    settings: Settings
    directory: EmbeddedDirectory
    ticket: Ticket
    manager_id: int
    agent_session: AgentSession


def _desk(db: Database, settings: Settings, smtp_url: str = "smtp://127.0.0.1:1") -> Desk:
    channel_id = make_channel(db, settings, smtp_url=smtp_url)
    manager_id, _ = make_agent(db, email="manager@example.com", role="manager", name="Max")
    outcome = ingest(
        db, settings, channel_id, mail(sender="Maria Lopez <maria@example.org>", subject="Locked")
    )
    with db.unit_of_work() as session:
        add_directory_account(
            session,
            account_id="acc-maria",
            name="Maria Lopez",
            email="maria@example.org",
            phone="+4915112345678",
            status="locked",
        )
    with db.reading() as session:
        ticket = session.exec(
            select(Ticket).where(Ticket.reference == outcome.ticket_reference)
        ).one()
    return Desk(
        db,
        settings,
        EmbeddedDirectory(db, settings),
        ticket,
        manager_id,
        signed_in_session(db, manager_id, second_factor_at=utcnow()),
    )


def _code_in(payload: bytes) -> str:
    message = cast(EmailMessage, message_from_bytes(payload, policy=policy.default))
    found = re.search(r"verification code is (\d{6})", message.get_content())
    assert found, "no code in the mail"
    return found.group(1)


def _last_code(db: Database, settings: Settings) -> str:
    """What the customer finds in their mailbox (the outbox holds the mail as sent)."""
    with db.reading() as session:
        item = session.exec(
            select(Outbox).where(Outbox.kind == "account_code").order_by(col(Outbox.id).desc())
        ).first()
        assert item is not None
        return _code_in(outbox_mail(settings, item))


def _account(desk: Desk, account_id: str = "acc-maria") -> Account:
    account = desk.directory.get(account_id)
    assert account is not None
    return account


def _prove_by_code(desk: Desk, account_id: str = "acc-maria", *, agent_email: str = "") -> None:
    desk.directory.send_code(account_id)
    valid = desk.directory.verify_code(account_id, _last_code(desk.db, desk.settings))
    agent = agent_by_email(desk.db, agent_email or "manager@example.com")
    with desk.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        record_code_check(
            session, ticket=ticket, agent=agent, account=_account(desk, account_id), valid=valid
        )


def _unlock(
    desk: Desk,
    *,
    key: str = "key-0001-unlock",
    account_id: str = "acc-maria",
    agent_email: str = "manager@example.com",
    agent_session: AgentSession | None = None,
    reason: str = "Customer locked out after wrong passwords",
) -> UnlockRequest:
    agent = agent_by_email(desk.db, agent_email)
    with desk.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        return request_account_unlock(
            session,
            desk.settings,
            ticket=ticket,
            agent=agent,
            agent_session=agent_session or desk.agent_session,
            account_id=account_id,
            reason=reason,
            idempotency_key=key,
        )


def _count(db: Database, model: type, *conditions: object) -> int:
    with db.reading() as session:
        return len(session.exec(select(model).where(*conditions)).all())  # type: ignore[call-overload]


# --- the defences ------------------------------------------------------------------------


def test_an_agent_without_the_role_is_refused(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    agent_id, _ = make_agent(db, email="agent@example.com", role="agent")
    with pytest.raises(PermissionDenied, match="role"):  # no proofs for them either
        _prove_by_code(desk, agent_email="agent@example.com")
    with pytest.raises(PermissionDenied, match="role"):
        _unlock(
            desk,
            agent_email="agent@example.com",
            agent_session=signed_in_session(db, agent_id, second_factor_at=utcnow()),
        )
    assert _count(db, UnlockRequest) == 0


@pytest.mark.parametrize("minutes_ago", [None, 11])
def test_without_a_second_factor_in_the_last_ten_minutes_it_is_refused(
    db: Database, settings: Settings, minutes_ago: int | None
) -> None:
    desk = _desk(db, settings)
    _prove_by_code(desk)
    stale = signed_in_session(
        db,
        desk.manager_id,
        second_factor_at=None if minutes_ago is None else utcnow() - timedelta(minutes=11),
    )
    with pytest.raises(PermissionDenied, match="second factor"):
        _unlock(desk, agent_session=stale)
    assert _count(db, UnlockRequest) == 0


def test_the_from_header_alone_is_not_proof(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)  # the ticket's mail came From the address on file
    with pytest.raises(PermissionDenied, match="From header is not proof"):
        _unlock(desk)
    assert (
        _count(db, UnlockRequest) == 0 and _count(db, Outbox, Outbox.kind == "account_notice") == 0
    )


def test_a_wrong_code_is_no_proof_and_a_right_code_works_once(
    db: Database, settings: Settings
) -> None:
    desk = _desk(db, settings)
    desk.directory.send_code("acc-maria")
    code = _last_code(db, settings)
    wrong = "000000" if code != "000000" else "111111"
    assert desk.directory.verify_code("acc-maria", wrong) is False
    with desk.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        manager = agent_by_email(db, "manager@example.com")
        assert (
            record_code_check(
                session, ticket=ticket, agent=manager, account=_account(desk), valid=False
            )
            is None
        )
    with pytest.raises(PermissionDenied):
        _unlock(desk)
    assert desk.directory.verify_code("acc-maria", code) is True
    assert desk.directory.verify_code("acc-maria", code) is False  # used up


def test_guessing_burns_the_code(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    desk.directory.send_code("acc-maria")
    code = _last_code(db, settings)
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]
    assert not any(desk.directory.verify_code("acc-maria", g) for g in guesses)
    assert desk.directory.verify_code("acc-maria", code) is False


def test_the_code_goes_to_the_contact_on_file_only(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    sent = desk.directory.send_code("acc-maria")
    assert sent.destination == "m***@example.org"
    with db.reading() as session:
        codes = session.exec(select(Outbox).where(Outbox.kind == "account_code")).all()
        timeline = session.exec(select(Message).where(Message.ticket_id == desk.ticket.id)).all()
    assert [c.recipients for c in codes] == [["maria@example.org"]]
    assert not any(_last_code(db, settings) in m.body_text for m in timeline)  # agents never see it


def test_an_unlock_needs_a_reason(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    _prove_by_code(desk)
    with pytest.raises(DomainError, match="reason"):
        _unlock(desk, reason="  ")


def test_a_request_is_audited_and_the_owner_notified(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    _prove_by_code(desk)
    request = _unlock(desk)
    assert request.state == "queued"
    with db.reading() as session:
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "account.unlock_requested")
        ).one()
        notice = session.exec(select(Outbox).where(Outbox.kind == "account_notice")).one()
        timer = session.exec(select(Timer).where(Timer.kind == "account_unlock")).one()
    assert audit.actor_agent_id == desk.manager_id and audit.target_id == "acc-maria"
    assert audit.detail["reason"] == "Customer locked out after wrong passwords"
    assert audit.detail["proof"] == "one_time_code"
    assert notice.recipients == ["maria@example.org"]
    assert b"did not ask for this" in notice.payload
    assert timer.payload == {"unlock_request_id": request.id} and timer.state == "pending"


def test_a_second_submit_does_not_unlock_twice(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    _prove_by_code(desk)
    first = _unlock(desk)
    again = _unlock(desk)
    assert again.id == first.id
    assert _count(db, UnlockRequest) == 1
    assert _count(db, Outbox, Outbox.kind == "account_notice") == 1
    assert _count(db, Timer, Timer.kind == "account_unlock") == 1
    assert _count(db, AuditEvent, AuditEvent.action == "account.unlock_requested") == 1


def test_a_proof_serves_one_unlock(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    _prove_by_code(desk)
    _unlock(desk, key="key-0001-unlock")
    with pytest.raises(PermissionDenied, match="prove"):
        _unlock(desk, key="key-0002-unlock")


def test_unlocks_per_account_are_rate_limited(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    for n in range(ACCOUNT_LIMIT):
        _prove_by_code(desk)
        _unlock(desk, key=f"key-account-{n:04d}")
    with db.unit_of_work() as session:  # the codes' own limit (per 15 minutes) is not tested here
        for row in session.exec(select(DirectoryCode)).all():
            row.created_at -= timedelta(hours=1)
            session.add(row)
    _prove_by_code(desk)
    with pytest.raises(Throttled, match="24 hours"):
        _unlock(desk, key="key-account-last")


def test_unlocks_per_agent_are_rate_limited(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    for n in range(AGENT_LIMIT):
        with db.unit_of_work() as session:
            add_directory_account(
                session, account_id=f"acc-{n}", name="", email=f"c{n}@example.org", phone=None
            )
        _prove_by_code(desk, f"acc-{n}")
        _unlock(desk, key=f"key-agent-{n:04d}", account_id=f"acc-{n}")
    _prove_by_code(desk)
    with pytest.raises(Throttled, match="last hour"):
        _unlock(desk, key="key-agent-last")


def test_a_verified_call_from_the_number_on_file_is_proof(db: Database, settings: Settings) -> None:
    desk = _desk(db, settings)
    manager = agent_by_email(db, "manager@example.com")

    def call(phone: str, checks: tuple[str, ...]) -> None:
        with db.unit_of_work() as session:
            ticket = session.get(Ticket, desk.ticket.id)
            assert ticket is not None
            log_call(
                session,
                settings,
                ticket=ticket,
                agent=manager,
                call=CallDetails(
                    direction="inbound",
                    phone=phone,
                    started_at=utcnow() - timedelta(minutes=2),
                    duration_seconds=90,
                    outcome="resolved",
                    summary="Asked to unlock.",
                    verification_checks=checks,
                ),
            )

    def prove() -> None:
        with db.unit_of_work() as session:
            ticket = session.get(Ticket, desk.ticket.id)
            assert ticket is not None
            prove_identity_by_call(session, ticket=ticket, agent=manager, account=_account(desk))

    call("+4915112345678", ALL_CHECKS[:2])  # checklist incomplete
    call("+4917000000001", ALL_CHECKS)  # another number than the one on file
    with pytest.raises(PermissionDenied, match="number on file"):
        prove()
    call("+49 151 12345678", ALL_CHECKS)
    prove()
    assert _unlock(desk).state == "queued"


# --- the HTTP account directory ------------------------------------------------------------


@pytest.fixture
def service() -> Iterator[AccountService]:
    with AccountService(token="s3cret-token") as running:
        running.add("acc-7", name="Maria", email="maria@example.org", status="locked")
        yield running


def test_http_client_speaks_the_documented_shapes(service: AccountService) -> None:
    client = AccountServiceClient(service.url, "s3cret-token", timeout=2)
    found = client.find(email="maria@example.org")
    assert found is not None and (found.account_id, found.status) == ("acc-7", "locked")
    assert client.find(phone="+4915100000000") is None
    assert client.get("nobody") is None
    sent = client.send_code("acc-7")
    assert sent.destination == "m***@example.org" and sent.expires_at.tzinfo is not None
    assert client.verify_code("acc-7", "000000") is False
    assert client.verify_code("acc-7", "424242") is True
    unlocked = client.unlock("acc-7", idempotency_key="k-1", reason="locked out")
    assert unlocked.status == "active"
    assert client.unlock("acc-7", idempotency_key="k-1", reason="locked out").status == "active"
    [(path, headers, body)] = service.unlock_calls()[:1]
    assert path == "/accounts/acc-7/unlock" and headers["idempotency-key"] == "k-1"
    assert headers["authorization"] == "Bearer s3cret-token" and body == {"reason": "locked out"}


def test_http_client_4xx_is_permanent_and_keeps_the_token_out_of_messages(
    service: AccountService,
) -> None:
    wrong_token = AccountServiceClient(service.url, "wrong-token", timeout=2)
    with pytest.raises(PermanentConnectorError) as refused:
        wrong_token.find(email="maria@example.org")
    assert refused.value.code == 401 and "wrong-token" not in str(refused.value)
    service.add("acc-off", status="disabled")
    client = AccountServiceClient(service.url, "s3cret-token", timeout=2)
    with pytest.raises(PermanentConnectorError, match="409"):
        client.unlock("acc-off", idempotency_key="k-2", reason="x")


def test_http_client_5xx_and_timeouts_are_transient(service: AccountService) -> None:
    client = AccountServiceClient(service.url, "s3cret-token", timeout=0.5)
    service.fail_next(503)
    with pytest.raises(TransientConnectorError, match="503"):
        client.get("acc-7")
    service.fail_next(429)
    with pytest.raises(TransientConnectorError):
        client.get("acc-7")
    service.stall_next(seconds=1.5)
    with pytest.raises(TransientConnectorError, match="timed out"):
        client.get("acc-7")
    closed = AccountServiceClient("http://127.0.0.1:9", "t", timeout=0.5)
    with pytest.raises(TransientConnectorError, match="unreachable"):
        closed.get("acc-7")
    assert client.get("acc-7") is not None  # and then it answers again


def test_http_directory_reports_refusals_in_the_desks_terms(service: AccountService) -> None:
    directory = HttpDirectory(AccountServiceClient(service.url, "s3cret-token", timeout=2))
    service.add("acc-off", status="disabled")
    with pytest.raises(DirectoryRefused, match="disabled"):
        directory.unlock("acc-off", idempotency_key="k-3", reason="x")


# --- the workflow, end to end ----------------------------------------------------------------


@pytest.fixture
def worker_rt(desk: InProcessDesk) -> tuple[Runtime, dramatiq.Worker]:
    return desk.rt, desk.worker


def _timeline(db: Database, ticket_id: int | None) -> list[Message]:
    with db.reading() as session:
        return list(
            session.exec(
                select(Message).where(Message.ticket_id == ticket_id).order_by(col(Message.id))
            ).all()
        )


def test_unlock_runs_on_a_worker_tells_the_customer_and_follows_up_a_day_later(
    worker_rt: tuple[Runtime, dramatiq.Worker], smtp_peer: SmtpPeer
) -> None:
    rt, worker = worker_rt
    desk = _desk(rt.db, rt.settings, smtp_url=smtp_peer.smtp_url())
    smtp_peer.wait_for(1)  # the acknowledgement of Maria's mail
    desk.directory.send_code("acc-maria")
    [*_, code_mail] = smtp_peer.wait_for(2)
    assert code_mail.rcpt_tos == ("maria@example.org",)
    code = _code_in(code_mail.raw)
    valid = desk.directory.verify_code("acc-maria", code)
    with rt.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        record_code_check(
            session,
            ticket=ticket,
            agent=agent_by_email(rt.db, "manager@example.com"),
            account=_account(desk),
            valid=valid,
        )
    _unlock(desk)
    drain(worker)
    received = smtp_peer.wait_for(4)
    subjects = {r.message["Subject"]: r for r in received[2:]}
    assert "We are unlocking your account" in subjects
    next_steps = next(r for s, r in subjects.items() if desk.ticket.reference in s)
    assert next_steps.rcpt_tos == ("maria@example.org",)
    assert "Forgot password?" in next_steps.message.get_content()
    assert _account(desk).status == "active"
    events = [m.body_text for m in _timeline(rt.db, desk.ticket.id) if m.kind == "system"]
    assert any("Account acc-maria unlocked" in e for e in events)
    with rt.db.reading() as session:
        request = session.exec(select(UnlockRequest)).one()
        follow_up = session.exec(select(Timer).where(Timer.kind == "unlock_followup")).one()
    assert request.state == "done"
    assert timedelta(hours=23, minutes=59) < follow_up.due_at - utcnow() <= timedelta(hours=24)

    assert run_due_timers(rt, now=utcnow() + timedelta(hours=1)) == 0  # not yet
    assert run_due_timers(rt, now=utcnow() + timedelta(hours=24, minutes=1)) == 1
    drain(worker)
    [*_, asked] = smtp_peer.wait_for(5)
    assert "Can you sign in again?" in asked.message.get_content()
    with rt.db.reading() as session:
        fired = session.get(Timer, follow_up.id)
        assert fired is not None and fired.state == "fired"
    assert run_due_timers(rt, now=utcnow() + timedelta(hours=48)) == 0  # fires once
    assert len(smtp_peer.received) == 5


@pytest.fixture
def http_worker_rt(
    env: dict[str, str], service: AccountService, smtp_peer: SmtpPeer
) -> Iterator[tuple[Runtime, dramatiq.Worker]]:
    settings = load_settings(
        {
            **env,
            "INBOX_ACCOUNTS_URL": service.url,
            "INBOX_ACCOUNTS_TOKEN": "s3cret-token",
            # Retries wait until the test moves the clock, however slow the machine is.
            "INBOX_RETRY_BASE_SECONDS": "60",
        }
    )
    with InProcessDesk(settings, smtp_peer) as desk:
        yield desk.rt, desk.worker


def test_a_failing_account_service_shows_on_the_ticket_and_is_retried(
    http_worker_rt: tuple[Runtime, dramatiq.Worker], service: AccountService
) -> None:
    rt, worker = http_worker_rt
    desk = _desk(rt.db, rt.settings)
    with rt.db.unit_of_work() as session:  # a call-checklist proof against the service's data
        service.add("acc-9", email="maria@example.org", phone="+4915112345678", status="locked")
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        manager = agent_by_email(rt.db, "manager@example.com")
        log_call(
            session,
            rt.settings,
            ticket=ticket,
            agent=manager,
            call=CallDetails(
                direction="inbound",
                phone="+4915112345678",
                started_at=utcnow() - timedelta(minutes=3),
                duration_seconds=120,
                outcome="resolved",
                summary="Verified and asked for an unlock.",
                verification_checks=ALL_CHECKS,
            ),
        )
    with rt.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        account = HttpDirectory(AccountServiceClient(service.url, "s3cret-token")).get("acc-9")
        assert account is not None
        prove_identity_by_call(session, ticket=ticket, agent=manager, account=account)
    service.fail_next(503, times=2)
    _unlock(desk, account_id="acc-9")
    drain(worker)
    with rt.db.reading() as session:
        request = session.exec(select(UnlockRequest)).one()
    assert (request.state, request.attempts) == ("queued", 1)
    assert "503" in (request.last_error or "")
    events = [m.body_text for m in _timeline(rt.db, desk.ticket.id) if m.kind == "system"]
    assert any("not done yet" in e and "503" in e for e in events)

    for _ in range(2):  # the clock moves past each backoff
        run_due_timers(rt, now=utcnow() + timedelta(minutes=5))
        drain(worker)
    with rt.db.reading() as session:
        request = session.exec(select(UnlockRequest)).one()
    assert (request.state, request.attempts) == ("done", 3)
    assert service.accounts["acc-9"]["status"] == "active"
    keys = {headers["idempotency-key"] for _, headers, _ in service.unlock_calls()}
    assert keys == {request.idempotency_key}  # every retry carried the same key


def test_a_refusal_by_the_account_service_is_final_and_shown(
    http_worker_rt: tuple[Runtime, dramatiq.Worker], service: AccountService
) -> None:
    rt, worker = http_worker_rt
    desk = _desk(rt.db, rt.settings)
    service.add("acc-off", email="maria@example.org", status="disabled")
    service.codes["acc-off"] = "424242"
    directory = HttpDirectory(AccountServiceClient(service.url, "s3cret-token"))
    manager = agent_by_email(rt.db, "manager@example.com")
    account = directory.get("acc-off")
    assert account is not None and directory.verify_code("acc-off", "424242")
    with rt.db.unit_of_work() as session:
        ticket = session.get(Ticket, desk.ticket.id)
        assert ticket is not None
        record_code_check(session, ticket=ticket, agent=manager, account=account, valid=True)
    _unlock(desk, account_id="acc-off")
    drain(worker)
    with rt.db.reading() as session:
        request = session.exec(select(UnlockRequest)).one()
    assert request.state == "failed" and request.attempts == 1
    events = [m.body_text for m in _timeline(rt.db, desk.ticket.id) if m.kind == "system"]
    assert any("Unlock of account acc-off failed" in e and "disabled" in e for e in events)
    assert run_due_timers(rt, now=utcnow() + timedelta(hours=1)) == 0


# --- over HTTP ---------------------------------------------------------------------------------


def _browser(settings: Settings, email: str) -> tuple[TestClient[Litestar], str]:
    client = TestClient(create_app(settings, background=False))
    client.__enter__()
    token = csrf_token(client.get("/login").text)
    sign_in(client, email, next=None)
    return client, token


@pytest.mark.parametrize(
    ("role", "factor_minutes_ago", "refusal"),
    [("agent", 0, "role may not unlock"), ("manager", 11, "confirm your second factor")],
)
def test_the_unlock_form_refuses_without_role_or_fresh_second_factor(
    db: Database, settings: Settings, role: str, factor_minutes_ago: int, refusal: str
) -> None:
    desk = _desk(db, settings)
    agent_id, _ = make_agent(db, email="someone@example.com", role=role, name="Sam")
    if role == "manager":
        _prove_by_code(desk, agent_email="someone@example.com")
    client, csrf = _browser(settings, "someone@example.com")
    try:
        confirm_second_factor(db, agent_id, at=utcnow() - timedelta(minutes=factor_minutes_ago))
        panel = client.get(f"/tickets/{desk.ticket.reference}/customer")
        assert "acc-maria" in panel.text
        assert ("Unlock account" in panel.text) == (role == "manager")
        response = client.post(
            f"/tickets/{desk.ticket.reference}/account/unlock",
            data={
                "_csrf_token": csrf,
                "account_id": "acc-maria",
                "reason": "Locked out after wrong passwords",
                "idempotency_key": "key-from-a-stale-form",
            },
            headers={"HX-Request": "true"},
        )
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 403 and refusal in response.text
    assert _count(db, UnlockRequest) == 0
    with db.reading() as session:
        [refused] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "account.unlock_refused")
        ).all()
    assert refused.actor_agent_id == agent_id and refusal in refused.detail["error"]


def test_the_forms_act_on_the_customers_own_account_never_on_one_the_browser_names(
    db: Database, settings: Settings
) -> None:
    desk = _desk(db, settings)
    with db.unit_of_work() as session:  # somebody else's account, locked, in the same directory
        add_directory_account(
            session,
            account_id="acc-victim",
            name="Victor Victim",
            email="victor@example.org",
            phone="+4915199999999",
            status="locked",
        )
    client, csrf = _browser(settings, "manager@example.com")
    forms = {
        "code": {},
        "verify": {"code": "424242"},
        "call-proof": {},
        "unlock": {"reason": "Locked out after wrong passwords", "idempotency_key": "key-0002"},
    }
    try:
        confirm_second_factor(db, desk.manager_id)
        answers = {
            form: client.post(
                f"/tickets/{desk.ticket.reference}/account/{form}",
                data={"_csrf_token": csrf, "account_id": "acc-victim", **fields},
                headers={"HX-Request": "true"},
            )
            for form, fields in forms.items()
        }
        honest = client.post(
            f"/tickets/{desk.ticket.reference}/account/code",
            data={"_csrf_token": csrf, "account_id": "acc-maria"},
            headers={"HX-Request": "true"},
        )
    finally:
        client.__exit__(None, None, None)
    for form, answer in answers.items():
        assert answer.status_code == 403, form
        assert "not the one the account directory has for this customer" in answer.text
    assert _count(db, DirectoryCode, DirectoryCode.account_id == "acc-victim") == 0
    assert _count(db, Outbox, Outbox.recipient == "victor@example.org") == 0
    assert _count(db, IdentityProof, IdentityProof.account_id == "acc-victim") == 0
    assert _count(db, UnlockRequest) == 0
    with db.reading() as session:
        refusals = session.exec(
            select(AuditEvent).where(AuditEvent.action == "account.foreign_account_refused")
        ).all()
    assert [r.target_id for r in refusals] == ["acc-victim"] * 4
    assert all(r.detail["customer_account"] == "acc-maria" for r in refusals)
    # The form as the panel renders it still works: the code goes to Maria's contact on file.
    assert honest.status_code == 200 and "Code sent to m***@example.org" in honest.text
