"""Inserting many rows in one statement, with the defaults the models declare.

The ORM builds, validates and flushes one object at a time: right for a reply, too slow
for a backlog of thousands of mails. ``insert_rows`` writes plain dicts in one
multi-row INSERT and hands back the new ids in the order of the rows given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import Table, insert
from sqlmodel import Session, SQLModel

Row = dict[str, Any]


@cache
def _defaults(model: type[SQLModel]) -> tuple[Row, tuple[tuple[str, Callable[[], Any]], ...]]:
    static: Row = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    columns = table_of(model).c
    for name, info in model.model_fields.items():
        column = columns.get(name)
        if name == "id" or column is None or column.computed is not None:
            continue  # the database fills these
        if info.default_factory is not None:
            factories.append((name, info.default_factory))  # type: ignore[arg-type]
        elif info.default is not PydanticUndefined:
            static[name] = info.default
    return static, tuple(factories)


def with_defaults(model: type[SQLModel], values: Row) -> Row:
    """``values`` completed with the model's defaults, as the ORM would have filled them."""
    static, factories = _defaults(model)
    row = {**static, **{name: factory() for name, factory in factories if name not in values}}
    row.update(values)
    return row


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[Row]) -> list[int]:
    """Insert ``rows`` (completed with defaults) and return their ids, in the same order.

    The rows go in as one multi-row INSERT. Ids are handed out in the order of its VALUES
    (SQLite's next rowid, PostgreSQL's sequence, row after row), but RETURNING promises no
    order, so the ids are sorted rather than trusted as returned. (Asking SQLAlchemy to keep
    the order instead makes it insert one row per statement on SQLite.)
    """
    if not rows:
        return []
    table = table_of(model)
    stmt = insert(table).returning(table.c.id)
    ids = sorted(row[0] for row in session.execute(stmt, [with_defaults(model, r) for r in rows]))
    if len(ids) != len(rows):
        raise RuntimeError(f"inserted {len(rows)} rows into {table.name}, got {len(ids)} ids")
    return ids


def table_of(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]
