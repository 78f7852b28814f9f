"""outbox secrets: mail carrying a one-time code or reset link is sealed, then wiped

Revision ID: 0016
Revises: 0013

``secret_expires_at`` marks mail that carries a secret (sign-in codes, account verification
codes, password-reset links): its payload is encrypted with a key derived from the instance
secret, and ``wiped_at`` records when its bytes were emptied (sent, failed for good, or the
secret expired; ``inbox.actions.outbox``).

Mail of those kinds already in the table was kept readable. It is wiped here: whatever it
carries has expired within the hour, and what still waits is failed, as the scheduler fails
mail whose secret expired unsent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = inbox.models.types.UTCDateTime
SECRET_KINDS = ("sign_in_code", "password_reset", "account_code")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        for name in ("secret_expires_at", "wiped_at"):
            batch_op.add_column(sa.Column(name, UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_secret_expires_at", ["secret_expires_at"])
    outbox = sa.table(
        "outbox",
        sa.column("kind", sa.String),
        sa.column("state", sa.String),
        sa.column("payload", sa.LargeBinary),
        sa.column("last_error", sa.Text),
        sa.column("lease_until", UTCDateTime(timezone=True)),
        sa.column("wiped_at", UTCDateTime(timezone=True)),
    )
    waiting = outbox.c.state.in_(("queued", "sending"))
    op.execute(
        outbox.update()
        .where(outbox.c.kind.in_(SECRET_KINDS))
        .values(
            payload=b"",
            wiped_at=datetime.now(UTC),
            lease_until=None,
            state=sa.case((waiting, "failed"), else_=outbox.c.state),
            last_error=sa.case(
                (waiting, "not sent before the secret it carries expired"),
                else_=outbox.c.last_error,
            ),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_secret_expires_at")
        batch_op.drop_column("wiped_at")
        batch_op.drop_column("secret_expires_at")
