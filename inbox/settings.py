"""One typed settings object, read from the environment once.

Everything that varies between deployments lives here; modules receive a
``Settings`` instead of reading ``os.environ`` themselves.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from inbox.rules.portal import parse_topics


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None
    realtime_url: str | None
    secret_key: bytes
    base_url: str
    reference_prefix: str
    max_mail_bytes: int = 25 * 1024 * 1024
    ingest_batch_size: int = 100
    # A batch of inbound items (read from a mailbox, parsed and filed together) also stops at
    # about this many bytes; a bigger single mail makes a batch of its own.
    ingest_batch_bytes: int = 32 * 1024 * 1024
    # Processes that parse stored mail beside the filing; 0 parses in the worker thread.
    parse_processes: int = 1
    auto_reply_limit: int = 5
    auto_reply_period_seconds: int = 3600
    default_poll_seconds: int = 60
    retry_base_seconds: float = 15.0
    scheduler_interval_seconds: float = 1.0
    # Numbers written without a country code are read in this region (ISO code, e.g. "DE").
    phone_region: str | None = None
    # The company's account service; unset: the embedded account directory (a table).
    accounts_url: str | None = None
    accounts_token: str = field(default="", repr=False)
    accounts_timeout_seconds: float = 10.0
    # Reverse proxies in front of ``inbox serve`` that append the client to X-Forwarded-For;
    # 0: the header is ignored and the socket's peer is the client (sign-in throttling).
    trusted_proxy_hops: int = 0
    # Whether the platforms' API URLs may lead to loopback and private addresses (a Bot API
    # server on the local network); off, such URLs are refused (docs/social.md).
    allow_private_urls: bool = False
    # The topics of the portal's new-ticket form and the team each picks
    # (``inbox.rules.portal.parse_topics``); blank: one topic per team, and "Something else".
    portal_topics: str = ""

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def in_process_workers(self) -> bool:
        """Without a broker, ``inbox serve`` runs the workers and scheduler itself."""
        return self.broker_url is None


def _secret_key(data_dir: Path, configured: str | None) -> bytes:
    """The configured key, or one generated once and kept in the data folder."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: two processes starting at once agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def _normalize_database_url(url: str) -> str:
    """Accept ``postgresql://`` as users write it; we drive PostgreSQL with psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _portal_topics(text: str) -> str:
    parse_topics(text)  # a mistake shows at start-up, not when a customer opens the form
    return text


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("INBOX_DATA_DIR", "./var")).resolve()
    database_url = env.get("INBOX_DATABASE_URL") or f"sqlite:///{data_dir / 'inbox.sqlite3'}"
    prefix = env.get("INBOX_REFERENCE_PREFIX", "HD").strip().upper()
    if not prefix.isalpha() or not 1 <= len(prefix) <= 6:
        raise ValueError("INBOX_REFERENCE_PREFIX must be 1 to 6 letters")
    return Settings(
        data_dir=data_dir,
        database_url=_normalize_database_url(database_url),
        broker_url=env.get("INBOX_BROKER_URL") or None,
        realtime_url=env.get("INBOX_REALTIME_URL") or None,
        secret_key=_secret_key(data_dir, env.get("INBOX_SECRET_KEY")),
        base_url=env.get("INBOX_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        reference_prefix=prefix,
        max_mail_bytes=int(env.get("INBOX_MAX_MAIL_BYTES", 25 * 1024 * 1024)),
        ingest_batch_bytes=int(env.get("INBOX_INGEST_BATCH_BYTES", 32 * 1024 * 1024)),
        default_poll_seconds=int(env.get("INBOX_POLL_SECONDS", 60)),
        retry_base_seconds=float(env.get("INBOX_RETRY_BASE_SECONDS", 15)),
        auto_reply_limit=int(env.get("INBOX_AUTO_REPLY_LIMIT", 5)),
        parse_processes=int(env.get("INBOX_PARSE_PROCESSES", 1)),
        auto_reply_period_seconds=int(env.get("INBOX_AUTO_REPLY_PERIOD_SECONDS", 3600)),
        phone_region=(env.get("INBOX_PHONE_REGION") or "").strip().upper() or None,
        accounts_url=(env.get("INBOX_ACCOUNTS_URL") or "").rstrip("/") or None,
        accounts_token=env.get("INBOX_ACCOUNTS_TOKEN", ""),
        accounts_timeout_seconds=float(env.get("INBOX_ACCOUNTS_TIMEOUT_SECONDS", 10)),
        trusted_proxy_hops=int(env.get("INBOX_TRUSTED_PROXY_HOPS", 0)),
        allow_private_urls=env.get("INBOX_ALLOW_PRIVATE_URLS", "").lower() in ("1", "true", "yes"),
        portal_topics=_portal_topics(env.get("INBOX_PORTAL_TOPICS", "")),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
