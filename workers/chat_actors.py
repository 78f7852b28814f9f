"""Live chat routing on timers: an offer whose time ran out moves on to the next agent, even
when nothing else happens in the queue; a live chat idle for its channel's idle time ends
(``inbox.actions.chat.routing``)."""

from __future__ import annotations

from datetime import datetime

from inbox.actions.chat.routing import IDLE_TIMER, OFFER_TIMER, end_if_idle, route_channel
from inbox.actions.timers import ClaimedTimer
from inbox.models import utcnow
from workers.runtime import Runtime
from workers.timers import timer_handler


@timer_handler(OFFER_TIMER)
def move_offers(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        route_channel(session, int(timer.payload["channel_id"]), now=utcnow())
    return None


@timer_handler(IDLE_TIMER)
def end_idle_chat(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        return end_if_idle(session, int(timer.payload["conversation_id"]), now=utcnow())
