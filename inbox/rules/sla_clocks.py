"""Replaying a ticket's history into SLA clocks: pure code, no database.

The clocks are a function of what happened to the ticket (when it was opened, when the
customer wrote, when an agent answered, which status category it was in when), of the
targets, of the business calendar and of the present moment. Recomputing from history
instead of updating clocks step by step makes a recompute idempotent and lets a change of
policy or priority apply to the whole life of the ticket.

- first response: from the ticket's creation until the first agent response;
- next response: from the first customer message after an answer until the next answer,
  one cycle per exchange;
- resolution: from creation until resolved or closed; a reopened ticket resumes it.

Every clock pauses while the ticket waits (on the customer or a third party) and resumes
when it is open again. Resolving or closing stops the response clocks too. A clock whose
deadline passes while it runs is breached, and stays breached once it stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from inbox.rules.business_time import Calendar, add_business_time, business_time_between

WAITING = ("waiting_on_customer", "waiting_on_third_party")
DONE = ("resolved", "closed")
# Happenings at the same instant: an answer counts before a status change made with it, a
# reopening before the customer message that caused it.
RESPONSE, STATUS, CUSTOMER = 0, 1, 2
ZERO = timedelta(0)


@dataclass(frozen=True, order=True)
class Happening:
    at: datetime
    kind: int  # RESPONSE, STATUS or CUSTOMER
    category: str = ""


@dataclass(frozen=True)
class Targets:
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass(frozen=True)
class Transition:
    target: str
    cycle: int
    kind: str  # started, paused, resumed, met, stopped, breached
    at: datetime
    due_at: datetime | None = None


@dataclass
class Clock:
    target: str
    cycle: int
    limit: timedelta
    started_at: datetime
    calendar: Calendar
    used: timedelta = timedelta(0)
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    due_at: datetime | None = None
    transitions: list[Transition] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    @property
    def state(self) -> str:
        if self.breached_at is not None:
            return "breached"
        if self.stopped_at is not None:
            return "met"
        return "running" if self.running_since is not None else "paused"

    def used_by(self, moment: datetime) -> timedelta:
        if self.running_since is None:
            return self.used
        return self.used + business_time_between(self.calendar, self.running_since, moment)

    def remaining(self, now: datetime) -> timedelta:
        return self.limit - self.used_by(self.stopped_at or now)

    def _note(self, kind: str, at: datetime, due_at: datetime | None = None) -> None:
        self.transitions.append(Transition(self.target, self.cycle, kind, at, due_at))

    def run(self, at: datetime, kind: str) -> None:
        self.running_since = at
        self.due_at = add_business_time(self.calendar, at, max(self.limit - self.used, ZERO))
        self._note(kind, at, self.due_at)

    def catch_up(self, moment: datetime, *, inclusive: bool = False) -> None:
        """A running clock whose deadline passed by ``moment`` is breached at the deadline;
        an answer at the deadline itself is in time."""
        if (
            self.running_since is not None
            and self.breached_at is None
            and self.due_at is not None
            and (self.due_at < moment or (inclusive and self.due_at == moment))
        ):
            self.breached_at = self.due_at
            self._note("breached", self.due_at, self.due_at)

    def pause(self, at: datetime) -> None:
        if self.running_since is not None:
            self.used = self.used_by(at)
            self.running_since = None
            self._note("paused", at)

    def resume(self, at: datetime) -> None:
        if self.active and self.running_since is None:
            self.run(at, "resumed")

    def stop(self, at: datetime, *, answered: bool) -> None:
        if not self.active:
            return
        self.used = self.used_by(at)
        self.running_since = None
        self.stopped_at = at
        self._note("met" if answered and self.breached_at is None else "stopped", at)

    def reopen(self, at: datetime, *, running: bool) -> None:
        self.stopped_at = None
        self._note("reopened", at)
        if running:
            self.run(at, "resumed")


@dataclass
class Replay:
    clocks: dict[str, Clock]
    # Finished next-response cycles: their transitions belong to the record as well.
    earlier: list[Clock] = field(default_factory=list)

    @property
    def transitions(self) -> list[Transition]:
        found = [t for clock in [*self.earlier, *self.clocks.values()] for t in clock.transitions]
        return sorted(found, key=lambda t: t.at)


def replay(
    calendar: Calendar,
    *,
    created_at: datetime,
    happenings: list[Happening],
    targets: Targets,
    now: datetime,
) -> Replay:
    """The clocks as of ``now``. Happenings after ``now`` are not counted yet."""
    category = "new"
    first = _start(calendar, "first_response", targets.first_response, created_at, 1)
    resolution = _start(calendar, "resolution", targets.resolution, created_at, 1)
    following: Clock | None = None
    earlier: list[Clock] = []
    answered = False
    cycles = 0

    def live() -> list[Clock]:
        return [c for c in (first, following, resolution) if c is not None]

    for happening in sorted(h for h in happenings if h.at <= now):
        at = happening.at
        for clock in live():
            clock.catch_up(at)
        if happening.kind == STATUS:
            previous, category = category, happening.category
            if previous == category:
                continue
            if category in WAITING:
                for clock in live():
                    clock.pause(at)
            elif category in DONE:
                for clock in live():
                    clock.stop(at, answered=clock is resolution)
            else:
                for clock in live():
                    clock.resume(at)
            if resolution is not None and previous in DONE and category not in DONE:
                resolution.reopen(at, running=category not in WAITING)
        elif happening.kind == RESPONSE:
            answered = True
            for response_clock in (first, following):
                if response_clock is not None:
                    response_clock.stop(at, answered=True)
        elif happening.kind == CUSTOMER:
            first_over = first is None or not first.active or answered
            if not first_over or (following is not None and following.active):
                continue
            if targets.next_response is None:
                continue
            if following is not None:
                earlier.append(following)
            cycles += 1
            following = Clock("next_response", cycles, targets.next_response, at, calendar)
            if category in WAITING or category in DONE:
                following._note("started", at)
            else:
                following.run(at, "started")
    for clock in live():
        clock.catch_up(now, inclusive=True)
    return Replay({c.target: c for c in live()}, earlier)


def _start(
    calendar: Calendar, target: str, limit: timedelta | None, at: datetime, cycle: int
) -> Clock | None:
    if limit is None:
        return None
    clock = Clock(target, cycle, limit, at, calendar)
    clock.run(at, "started")
    return clock
