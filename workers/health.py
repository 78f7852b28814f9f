"""The desk watching itself: the services it needs are probed, the tables read
(``inbox.queries.health``), and administrators mailed when something turns red.

The scheduler runs ``watch_health`` once a minute: it is the one process sure to be running
while anything works, and it needs no broker to notice that the broker is gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from inbox.actions.health import alert_administrators
from inbox.models import utcnow
from inbox.queries.health import Check, DeskHealth, ServiceCheck, desk_health
from inbox.realtime.probe import probe_hub
from inbox.settings import Settings
from workers.runtime import Runtime

log = logging.getLogger(__name__)

WATCH_EVERY = timedelta(minutes=1)
TIMEOUT_SECONDS = 2


def probe_broker(url: str | None) -> ServiceCheck:
    if url is None:
        return ServiceCheck("broker", "ok", "none: the workers run inside inbox serve")
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
            )
            try:
                client.ping()
            finally:
                client.close()
            return ServiceCheck("broker", "ok", "Redis answers")
        import pika  # type: ignore[import-untyped]

        parameters = pika.URLParameters(url)
        parameters.socket_timeout = TIMEOUT_SECONDS
        parameters.connection_attempts = 1
        parameters.blocked_connection_timeout = TIMEOUT_SECONDS
        pika.BlockingConnection(parameters).close()
        return ServiceCheck("broker", "ok", "RabbitMQ answers")
    except Exception as exc:
        return ServiceCheck("broker", "red", f"unreachable: {type(exc).__name__}: {exc}"[:500])


def probe_services(settings: Settings) -> list[ServiceCheck]:
    level, detail = probe_hub(
        settings.realtime_url, separate_workers=settings.broker_url is not None
    )
    return [probe_broker(settings.broker_url), ServiceCheck("realtime", level, detail)]


def check_health(rt: Runtime, *, now: datetime | None = None) -> DeskHealth:
    services = probe_services(rt.settings)
    with rt.db.reading() as session:
        return desk_health(session, now=now or utcnow(), services=services)


def watch_health(rt: Runtime, *, now: datetime | None = None) -> list[Check]:
    """One look at the desk; returns the checks the administrators were just mailed about."""
    now = now or utcnow()
    health = check_health(rt, now=now)
    with rt.db.unit_of_work() as session:
        mailed = alert_administrators(session, rt.settings, health.checks, now=now)
    for check in mailed:
        log.warning("desk health: %s is red (%s)", check.title, check.detail)
    return mailed
