"""help centre: category names per locale

Revision ID: 0028
Revises: 0027

``help_category_name`` holds a category's name in a locale other than the desk's default
(whose name stays ``help_category.name``), one row per category and locale. The public pages
in a locale show its name there, else the default one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "help_category_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("locale", String(length=16), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["help_category.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category_id", "locale", name="uq_help_category_name_locale"),
    )


def downgrade() -> None:
    op.drop_table("help_category_name")
