"""Whether the realtime hub can be reached, for /admin/health: a Redis ``PING`` or a
PostgreSQL ``SELECT 1`` with a short timeout. The hub in memory is always there, but hears
only the web process it lives in."""

from __future__ import annotations

from inbox.realtime.publish import REDIS_SCHEMES, postgres_dsn

TIMEOUT_SECONDS = 2


def probe_hub(url: str | None, *, separate_workers: bool) -> tuple[str, str]:
    """(level, detail): ``ok``, ``warning`` or ``red`` and what was found."""
    if not url:
        if separate_workers:
            return (
                "warning",
                "in memory, while workers run apart: pages hear only of changes made by "
                "the web process they are connected to (set INBOX_REALTIME_URL)",
            )
        return "ok", "in memory, in this process"
    try:
        if url.startswith(REDIS_SCHEMES):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
            )
            try:
                client.ping()
            finally:
                client.close()
            return "ok", "Redis answers"
        import psycopg

        with psycopg.connect(postgres_dsn(url), connect_timeout=TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
        return "ok", "PostgreSQL answers"
    except Exception as exc:
        return "red", f"unreachable: {type(exc).__name__}: {exc}"[:500]
