"""The word being typed in the search box finds every word it begins, whatever wrote the word
and whenever: new mail, a reply, a renamed customer, a new address, before and after the
workers fold the new words into the word list (SQLite keeps one, migration 0013; on
PostgreSQL the same searches run against GIN, and the fold does nothing). On SQLite the
workers also merge the index's segments."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlmodel import col, select

from inbox.actions.search_upkeep import fold_new_search_words, merge_search_index
from inbox.db import Database
from inbox.migrate import alembic_config
from inbox.models import Customer, CustomerIdentity, Ticket, Timer, utcnow
from inbox.queries.search import MAX_COMPLETIONS
from inbox.settings import Settings
from tests.support.desk import fire_due_timers, make_agent, make_channel, new_ticket
from tests.support.web import Client, api_references
from workers.search_upkeep import SEARCH_UPKEEP_TIMER, ensure_search_upkeep


def _fold(db: Database) -> None:
    with db.unit_of_work() as session:
        fold_new_search_words(session)


def _new_words(db: Database) -> set[str]:
    with db.reading() as session:
        return set(session.execute(text("SELECT term FROM search_word_new_terms")).scalars())


def _words(db: Database) -> set[str]:
    with db.reading() as session:
        return set(session.execute(text("SELECT word FROM search_word")).scalars())


def test_a_word_being_typed_finds_the_words_it_begins_before_and_after_the_fold(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    token = make_agent(db, "searcher@example.com")[1]
    payout = new_ticket(db, settings, channel, subject="Payout missing", body="Where is it?")
    payouts = new_ticket(db, settings, channel, subject="Two payouts", body="Both late.")
    other = new_ticket(db, settings, channel, subject="Pay later", body="My plan.")
    expected = {payout, payouts}
    assert set(api_references(client, token, q="payo")) == expected
    assert set(api_references(client, token, q="late payo")) == {payouts}
    _fold(db)
    assert set(api_references(client, token, q="payo")) == expected
    # A word first written after the fold, while the folded ones are in the list.
    newest = new_ticket(db, settings, channel, subject="Payoutly", body="A new word.")
    assert set(api_references(client, token, q="payout")) == expected | {newest}
    assert set(api_references(client, token, q="pay")) == expected | {newest, other}
    assert api_references(client, token, q="payoutz") == []


def test_a_prefix_of_more_words_than_are_looked_up_still_finds_them_all(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    token = make_agent(db, "searcher@example.com")[1]
    many = " ".join(f"quasar{n}" for n in range(MAX_COMPLETIONS))
    first = new_ticket(db, settings, channel, subject="Stars", body=many)
    second = new_ticket(db, settings, channel, subject="quasarlast", body="One more.")
    assert set(api_references(client, token, q="quas")) == {first, second}
    _fold(db)
    assert set(api_references(client, token, q="quasa")) == {first, second}
    assert set(api_references(client, token, q="stars quasar")) == {first}


def test_renamed_customers_and_new_addresses_are_found_by_what_is_typed(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    token = make_agent(db, "searcher@example.com")[1]
    reference = new_ticket(db, settings, channel, sender="Ann <ann@example.org>")
    _fold(db)
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        session.execute(
            update(Customer)
            .where(col(Customer.id) == ticket.customer_id)
            .values(name="Quintessa Vogelsang")
        )
        session.add(
            CustomerIdentity(
                customer_id=ticket.customer_id, kind="phone", value="zanzibarphone 4411"
            )
        )
    assert api_references(client, token, q="vogels") == [reference]
    assert api_references(client, token, q="zanzib") == [reference]
    _fold(db)
    assert api_references(client, token, q="quintes") == [reference]
    assert api_references(client, token, q="zanzibarp") == [reference]


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("the word list is SQLite's; PostgreSQL reads prefixes off its GIN index")
    return db


def test_the_fold_moves_new_words_into_the_list_and_empties_the_new_ones(
    sqlite_db: Database, settings: Settings
) -> None:
    db = sqlite_db
    channel = make_channel(db, settings)
    new_ticket(db, settings, channel, subject="Overdraft", body="Unexpected overdraft fee.")
    assert {"overdraft", "unexpected", "fee"} <= _new_words(db)
    assert "overdraft" not in _words(db)
    _fold(db)
    assert _new_words(db) == set()
    assert {"overdraft", "unexpected", "fee"} <= _words(db)


def _segments(db: Database) -> int:
    with db.reading() as session:
        count = text("SELECT count(DISTINCT segid) FROM ticket_fts_idx")
        return int(session.execute(count).scalar_one())


def test_the_upkeep_merges_the_segments_mail_left_behind(
    client: Client, sqlite_db: Database, settings: Settings
) -> None:
    channel = make_channel(sqlite_db, settings)
    token = make_agent(sqlite_db, "searcher@example.com")[1]
    # Each mail filed in its own transaction leaves a segment; FTS5 merges them four at a time.
    refs = [
        new_ticket(sqlite_db, settings, channel, subject=f"Refund {n}", body="Charged twice.")
        for n in range(7)
    ]
    assert _segments(sqlite_db) >= 2
    with sqlite_db.unit_of_work() as session:
        merge_search_index(session)
    assert _segments(sqlite_db) == 1
    assert set(api_references(client, token, q="refund twice")) == set(refs)


def test_the_workers_timer_keeps_the_index_up_and_sets_itself_again(
    sqlite_db: Database, settings: Settings
) -> None:
    channel = make_channel(sqlite_db, settings)
    for subject in ("Chargeback", "Overdraft", "Receipt"):
        new_ticket(sqlite_db, settings, channel, subject=subject, body="Filed one.")
    assert _segments(sqlite_db) >= 2
    ensure_search_upkeep(sqlite_db)
    ensure_search_upkeep(sqlite_db)  # the scheduler of every process sets it; one timer
    db = fire_due_timers(settings)
    with db.reading() as session:
        timer = session.exec(select(Timer).where(Timer.kind == SEARCH_UPKEEP_TIMER)).one()
    assert timer.state == "pending"
    assert timer.due_at > utcnow()
    assert _new_words(db) == set()
    assert {"chargeback", "overdraft", "receipt"} <= _words(db)
    assert _segments(db) == 1


def test_upgrading_lists_the_words_already_indexed_and_merges_the_index(
    sqlite_db: Database, settings: Settings, client: Client
) -> None:
    channel = make_channel(sqlite_db, settings)
    token = make_agent(sqlite_db, "searcher@example.com")[1]
    reference = new_ticket(sqlite_db, settings, channel, subject="Instalment", body="Skipped.")
    config = alembic_config(sqlite_db.url)
    sqlite_db.dispose()
    command.downgrade(config, "0012")
    # Written in SQL as revision 0012 knows the tables: today's models have columns it lacks.
    with sqlite_db.unit_of_work() as session:
        session.execute(
            text(
                "INSERT INTO ticket (reference, subject, status, status_category, priority,"
                " channel_id, channel_kind, customer_id, created_at, updated_at)"
                " SELECT 'HD-OLD1-OLD1', 'Statement', 'new', 'new', 'normal', channel_id,"
                " channel_kind, customer_id, created_at, updated_at FROM ticket LIMIT 1"
            )
        )
    assert _segments(sqlite_db) >= 2
    command.upgrade(config, "heads")
    assert _segments(sqlite_db) == 1
    assert {"instalment", "skipped"} <= _words(sqlite_db)
    assert _new_words(sqlite_db) == set()
    assert api_references(client, token, q="instal") == [reference]
    assert "statement" in _words(sqlite_db)
