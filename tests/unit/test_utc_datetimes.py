"""Times read back from SQLite are the instants written, aware and in UTC, whatever wrote them:
the application (naive UTC text), or SQL by hand with an offset of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from inbox.models.types import UTCDateTime


def test_sqlite_hands_back_the_instant_written_in_utc() -> None:
    engine = create_engine("sqlite://")
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    table.metadata.create_all(engine)
    written = [
        datetime(2026, 11, 24, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 11, 24, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))),
        None,
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": at} for at in written])
        conn.exec_driver_sql("INSERT INTO t(at) VALUES ('2026-11-24 12:30:05')")
        conn.exec_driver_sql("INSERT INTO t(at) VALUES ('2026-11-24T13:30:05+01:00')")
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    instant = datetime(2026, 11, 24, 12, 30, 5, tzinfo=UTC)
    assert read == [written[0], instant, None, instant, instant]
    assert all(at.tzinfo is UTC for at in read if at is not None)
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        conn.execute(insert(table), [{"at": datetime(2026, 11, 24, 12, 30)}])
