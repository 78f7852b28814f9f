"""Full-text search over tickets, the same on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Migration 0004 indexes one document per ticket (reference, subject, customer name and
identities, message text) as lower-case runs of letters and digits on both backends. A query
is split here the same way, so it can only ever name words: quotes, ``*``, ``NEAR``, ``:``,
``-`` and parentheses are separators, and each word goes to the engine quoted as a literal.
Every word must occur in the ticket as a whole word; the last word, the one being typed,
also matches longer words it begins ("refu" finds "refund"), if it has two or more
characters. (Matching only the last word by prefix is also what keeps PostgreSQL fast: a
prefix makes GIN read the whole posting list, an exact word lets it skip.) A run of words
that spells a ticket reference in any tolerated form also finds that ticket and the tickets
whose text quotes it.

On SQLite, a last word longer than FTS5's prefix index (two and three characters, migration
0004) is looked up among the index's words (``search_word``, migration 0013); when it begins
at most ``MAX_COMPLETIONS`` of them, the engine is asked for those words, one of which must
occur, instead of the prefix. The matches are the same, but FTS5 reads a word's postings
lazily, newest first, and stops with the page, where a prefix makes it read and merge the
postings of every word the prefix begins. The word as typed is asked for too: it may be a
word the document's length limit cut short.

A search lists the newest ticket first unless the agent picks another sort: FTS5's rowid is
the ticket id, so SQLite reads the matches in that order and stops once the page is full
(``TicketSearch.newest_first``); any other order needs every match, as does a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    String,
    TableClause,
    and_,
    bindparam,
    cast,
    column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlmodel import Session, col

from inbox.models import Ticket
from inbox.rules.references import normalize_reference

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 64
MIN_PREFIX_CHARS = 2
# FTS5's prefix index covers prefixes up to this length (migration 0004).
INDEXED_PREFIX_CHARS = 3
MAX_COMPLETIONS = 12
# A reference typed with spaces is at most prefix, four and five symbols: three words.
MAX_REFERENCE_WORDS = 3
_SEPARATORS = re.compile(r"[\W_]+")
Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False
    # The index's words that ``text`` begins, when the prefix was looked up (SQLite).
    completions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SearchTerm:
    """One condition: all ``words`` occur, or (for a reference) the ticket is ``reference``."""

    words: tuple[Word, ...]
    reference: str | None = None
    reference_words: tuple[Word, ...] = ()


def split_words(text_: str) -> list[str]:
    return [w for w in _SEPARATORS.split(text_.lower()) if w]


def typed_words(q: str) -> list[Word]:
    """The words of a search box input, bounded and literal: at most ``MAX_TERMS``, the last
    one (the word being typed) also a prefix. The help centre's search reads input so too."""
    typed = split_words(q[:MAX_QUERY_CHARS])[:MAX_TERMS]
    # The last word may be unfinished, and so is a word cut at MAX_TERM_CHARS.
    unfinished = [
        (n == len(typed) - 1 or len(w) > MAX_TERM_CHARS) and len(w) >= MIN_PREFIX_CHARS
        for n, w in enumerate(typed)
    ]
    return [Word(w[:MAX_TERM_CHARS], u) for w, u in zip(typed, unfinished, strict=True)]


def parse_query(q: str, prefix: str) -> list[SearchTerm]:
    """Bounded, literal terms of a search box input: at most ``MAX_TERMS`` words."""
    words = typed_words(q)
    terms: list[SearchTerm] = []
    i = 0
    while i < len(words):
        for span in range(min(MAX_REFERENCE_WORDS, len(words) - i), 0, -1):
            reference = normalize_reference(" ".join(w.text for w in words[i : i + span]), prefix)
            if reference:
                terms.append(
                    SearchTerm(
                        words=tuple(words[i : i + span]),
                        reference=reference,
                        reference_words=tuple(Word(w) for w in split_words(reference)),
                    )
                )
                i += span
                break
        else:
            terms.append(SearchTerm(words=(words[i],)))
            i += 1
    return terms


@dataclass(frozen=True)
class TicketSearch:
    """A search box input as SQL on one backend: the plain words, matched by the index in one
    query, and a condition per reference term.

    ``clause`` is the whole search as a condition on ``ticket``, for counts and for lists in
    any order; the engine then returns every match and the list sorts them. ``newest_first``
    reads the matches in the index's own ticket id order instead, so that SQLite's FTS5 walks
    its rowids downwards and the query stops once the page is full, however many match.
    """

    index: TableClause
    ticket_id: ColumnClause[int]
    words: ColumnElement[bool] | None
    references: tuple[ColumnElement[bool], ...]

    @property
    def clause(self) -> ColumnElement[bool]:
        words = [_in_index(self.ticket_id, self.words)] if self.words is not None else []
        return and_(*words, *self.references)

    def newest_first(self, query: Q, before: int | None) -> Q:
        """``query`` (over ``ticket``) narrowed to the matches, newest ticket first: ticket id
        descending, below ``before`` (the keyset of the page before)."""
        query = query.where(*self.references)
        if self.words is None:  # a reference alone matches a handful of tickets
            if before is not None:
                query = query.where(col(Ticket.id) < before)
            return query.order_by(col(Ticket.id).desc())
        query = query.join(self.index, self.ticket_id == col(Ticket.id)).where(self.words)
        if before is not None:
            query = query.where(self.ticket_id < before)
        return query.order_by(self.ticket_id.desc())


def ticket_search(session: Session, q: str, prefix: str) -> TicketSearch | None:
    """The search box input as SQL, or None when it names no word."""
    terms = parse_query(q, prefix)
    if not terms:
        return None
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        terms = [_complete(session, term) for term in terms]
    index, ticket_id = (_FTS5, _FTS5.c.rowid) if sqlite else (_TSVECTORS, _TSVECTORS.c.ticket_id)
    match = _fts5_match if sqlite else _tsquery_match
    plain = tuple(w for t in terms if t.reference is None for w in t.words)
    # Plain words go to the engine as one query: it intersects its own posting lists.
    references = tuple(
        or_(
            _in_index(ticket_id, match(term.words, f"search_w{n}")),
            col(Ticket.reference) == term.reference,
            _in_index(ticket_id, match(term.reference_words, f"search_r{n}")),
        )
        for n, term in enumerate(t for t in terms if t.reference)
    )
    return TicketSearch(
        index=index,
        ticket_id=ticket_id,
        words=match(plain, "search_q") if plain else None,
        references=references,
    )


_FTS5 = table("ticket_fts", column("rowid", Integer), column("ticket_fts"))
_TSVECTORS = table("ticket_search", column("ticket_id", Integer), column("document"))


def _in_index(ticket_id: ColumnClause[int], match: ColumnElement[bool]) -> ColumnElement[bool]:
    # Never correlated: the list may join the same index table for its own words.
    return col(Ticket.id).in_(select(ticket_id).where(match).correlate(None))


def _complete(session: Session, term: SearchTerm) -> SearchTerm:
    words = tuple(
        replace(w, completions=_completions(session, w.text))
        if w.prefix and len(w.text) > INDEXED_PREFIX_CHARS
        else w
        for w in term.words
    )
    return replace(term, words=words)


_COMPLETIONS = text(
    "SELECT word FROM (SELECT word FROM search_word WHERE word >= :low AND word < :high"
    " LIMIT :n) UNION SELECT term FROM (SELECT term FROM search_word_new_terms"
    " WHERE term >= :low AND term < :high LIMIT :n)"
)


def _completions(session: Session, prefix: str) -> tuple[str, ...] | None:
    """The index's words that begin with ``prefix``, or None if there are more than
    ``MAX_COMPLETIONS``. (No index word has U+10FFFF, a noncharacter, after a prefix.)"""
    params = {"low": prefix, "high": prefix + "\U0010ffff", "n": MAX_COMPLETIONS + 1}
    words = session.execute(_COMPLETIONS, params).scalars().all()
    return tuple(words) if len(words) <= MAX_COMPLETIONS else None


def _fts5_word(word: Word) -> str:
    if word.completions is not None:
        alternatives = sorted({word.text, *word.completions})
        if len(alternatives) == 1:
            return _fts5_string(word.text)
        return "(" + " OR ".join(_fts5_string(w) for w in alternatives) + ")"
    return _fts5_string(word.text) + ("*" if word.prefix else "")


def _fts5_string(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def fts5_expression(words: tuple[Word, ...]) -> str:
    """An FTS5 query: every word as a quoted literal, the unfinished one as a prefix."""
    return " AND ".join(_fts5_word(w) for w in words)


def tsquery_expression(words: tuple[Word, ...]) -> str:
    """The same as a PostgreSQL tsquery (the words hold only letters and digits)."""
    return " & ".join(f"'{w.text}'" + (":*" if w.prefix else "") for w in words)


def _fts5_match(words: tuple[Word, ...], name: str) -> ColumnElement[bool]:
    expression = fts5_expression(words)
    return _FTS5.c.ticket_fts.op("MATCH")(bindparam(name, expression, type_=String))


def _tsquery_match(words: tuple[Word, ...], name: str) -> ColumnElement[bool]:
    expression = tsquery_expression(words)
    return _TSVECTORS.c.document.op("@@")(cast(bindparam(name, expression, type_=String), TSQUERY))
