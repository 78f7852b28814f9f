"""The embedded account directory: accounts in a table of the desk's own database.

For the default set-up and the demo. It behaves as the account service would: one-time
codes are random, stored only as a keyed hash, expire, work once and allow few guesses;
they go to the contact on file through the outbox, never to an address the agent names.
Each call is its own unit of work, like a request to a remote service.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from inbox.accounts import (
    ACCOUNT_STATUSES,
    Account,
    CodeSent,
    DirectoryRefused,
    mask_email,
)
from inbox.actions.automatic_mail import queue_contact_mail
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import DirectoryAccount, DirectoryCode, utcnow
from inbox.settings import Settings

CODE_LIFETIME = timedelta(minutes=10)
CODE_DIGITS = 6
MAX_GUESSES = 5
CODES_PER_WINDOW = 3
CODE_WINDOW = timedelta(minutes=15)


def _account(row: DirectoryAccount) -> Account:
    return Account(
        account_id=row.account_id,
        name=row.name,
        status=row.status,
        email=row.email,
        phone=row.phone,
        locked_reason=row.locked_reason,
    )


def add_directory_account(
    session: Session,
    *,
    account_id: str,
    name: str,
    email: str | None,
    phone: str | None,
    status: str = "active",
    locked_reason: str = "",
) -> DirectoryAccount:
    """An account of the embedded directory (demo data, tests, a small company's set-up)."""
    if status not in ACCOUNT_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(ACCOUNT_STATUSES)}")
    row = DirectoryAccount(
        account_id=account_id,
        name=name,
        email=email.lower() if email else None,
        phone=phone,
        status=status,
        locked_reason=locked_reason,
    )
    session.add(row)
    session.flush()
    return row


class EmbeddedDirectory:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def _code_hash(self, account_id: str, code: str) -> str:
        return hmac.new(
            self.settings.secret_key, f"account-code:{account_id}:{code}".encode(), hashlib.sha256
        ).hexdigest()

    def find(self, *, email: str | None = None, phone: str | None = None) -> Account | None:
        if not email and not phone:
            return None
        with self.db.reading() as session:
            query = select(DirectoryAccount)
            if email:
                query = query.where(DirectoryAccount.email == email.strip().lower())
            else:
                query = query.where(DirectoryAccount.phone == phone)
            row = session.exec(query.order_by(col(DirectoryAccount.id))).first()
            return _account(row) if row else None

    def get(self, account_id: str) -> Account | None:
        with self.db.reading() as session:
            row = session.exec(
                select(DirectoryAccount).where(DirectoryAccount.account_id == account_id)
            ).first()
            return _account(row) if row else None

    def unlock(self, account_id: str, *, idempotency_key: str, reason: str) -> Account:
        with self.db.unit_of_work() as session:
            row = session.exec(
                select(DirectoryAccount)
                .where(DirectoryAccount.account_id == account_id)
                .with_for_update()
            ).first()
            if row is None:
                raise DirectoryRefused("no such account")
            if row.status == "disabled":
                raise DirectoryRefused("the account is disabled and cannot be unlocked")
            if row.status == "locked":  # unlocking an active account again changes nothing
                row.status = "active"
                row.locked_reason = ""
                row.updated_at = utcnow()
                session.add(row)
            return _account(row)

    def send_code(self, account_id: str) -> CodeSent:
        now = utcnow()
        with self.db.unit_of_work() as session:
            row = session.exec(
                select(DirectoryAccount).where(DirectoryAccount.account_id == account_id)
            ).first()
            if row is None:
                raise DirectoryRefused("no such account")
            if not row.email:
                raise DirectoryRefused("no email address on file to send a code to")
            recent = session.exec(
                select(func.count())
                .select_from(DirectoryCode)
                .where(
                    DirectoryCode.account_id == account_id,
                    col(DirectoryCode.created_at) > now - CODE_WINDOW,
                )
            ).one()
            if recent >= CODES_PER_WINDOW:
                raise DirectoryRefused("too many codes sent to this account; wait a few minutes")
            # A new code replaces every older one.
            session.execute(
                update(DirectoryCode)
                .where(
                    col(DirectoryCode.account_id) == account_id,
                    col(DirectoryCode.used_at).is_(None),
                )
                .values(used_at=now)
            )
            code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
            stored = DirectoryCode(
                account_id=account_id,
                code_hash=self._code_hash(account_id, code),
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
            session.add(stored)
            session.flush()
            sent = queue_contact_mail(
                session,
                self.settings,
                to_address=row.email,
                to_name=row.name,
                kind="account_code",
                key=f"account_code:{stored.id}",
                secret_expires_at=stored.expires_at,
                subject="Your verification code",
                body=(
                    f"Hello {row.name or ''},\n\n"
                    f"Your verification code is {code}.\n\n"
                    f"Read it out to the support agent you are speaking with. It works once "
                    f"and expires in {int(CODE_LIFETIME.total_seconds() // 60)} minutes.\n\n"
                    f"If you are not in touch with our support right now, do not share this "
                    f"code with anyone; nobody from our company will ask you for it "
                    f"otherwise.\n"
                ),
            )
            if not sent:
                raise DirectoryRefused("no email channel is set up to send the code")
            return CodeSent(destination=mask_email(row.email), expires_at=stored.expires_at)

    def verify_code(self, account_id: str, code: str) -> bool:
        code = "".join(code.split())
        now = utcnow()
        with self.db.unit_of_work() as session:
            stored = session.exec(
                select(DirectoryCode)
                .where(
                    DirectoryCode.account_id == account_id,
                    col(DirectoryCode.used_at).is_(None),
                    col(DirectoryCode.expires_at) > now,
                )
                .order_by(col(DirectoryCode.id).desc())
                .with_for_update()
            ).first()
            if stored is None:
                return False
            stored.attempts += 1
            right = len(code) == CODE_DIGITS and hmac.compare_digest(
                stored.code_hash, self._code_hash(account_id, code)
            )
            if right or stored.attempts >= MAX_GUESSES:
                stored.used_at = now  # a right code works once; too many guesses burn it
            session.add(stored)
            return right
