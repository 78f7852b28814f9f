"""What the social connectors share on the wire: one HTTP call with bounded answers and
translated errors, the platform's wait read from its headers, and media fetched only from the
platform's own host, within a size and a time limit.

Every request and every redirect goes only to a public address: the host is resolved first,
and a name that resolves to a loopback, private, link-local (cloud metadata), shared or
reserved address is refused, unless the desk allows private addresses
(``allow_private_addresses``: a Bot API server of one's own on the local network, the test
suite's stand-ins for the platforms).

Tokens travel in URLs (Telegram puts the bot token in the path) and in headers, and library
errors quote URLs, so every message raised here passes through ``without_secret`` first.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from connectors.errors import PermanentConnectorError, TransientConnectorError, without_secret

MAX_ANSWER_BYTES = 1024 * 1024
# httpx logs every request's URL at INFO, and Telegram's carry the bot token in their path.
logging.getLogger("httpx").setLevel(logging.WARNING)
MAX_REDIRECTS = 3
_private_allowed = False


def allow_private_addresses(allowed: bool) -> None:
    """Whether platforms' URLs may lead to loopback and private addresses (the process's
    setting, ``INBOX_ALLOW_PRIVATE_URLS``, given once at start-up)."""
    global _private_allowed
    _private_allowed = allowed


def check_public_address(url: str, secrets: tuple[str, ...] = ()) -> None:
    """Refuse (``PermanentConnectorError``) a URL whose host is, or resolves to, an address
    that is not public; an unresolvable host is a transient failure."""
    if _private_allowed:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise TransientConnectorError(_clean(f"{host} does not resolve", secrets)) from exc
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        if not ip.is_global:
            shown = _clean(host, secrets)
            raise PermanentConnectorError(f"refused: {shown} is not a public address ({ip})")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class MediaTooLarge(PermanentConnectorError):
    """A file over the desk's limit: not fetched, or not fetched further."""


def call(
    method: str,
    url: str,
    *,
    secrets: tuple[str, ...],
    what: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    params: dict[str, str] | None = None,
) -> Answer:
    """One request; transport failures become ``TransientConnectorError``. The status is the
    caller's to judge: each platform says "wait" and "never" in its own way."""
    import httpx  # on first use: most processes never call a platform

    check_public_address(url, secrets)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(method, url, headers=headers, json=json_body, params=params) as response,
        ):
            body = _read_capped(response, MAX_ANSWER_BYTES, what, secrets)
            return Answer(response.status_code, _lower(response.headers), body)
    except httpx.TimeoutException as exc:
        raise TransientConnectorError(f"{what} timed out") from exc
    except httpx.HTTPError as exc:
        message = f"{what} unreachable ({type(exc).__name__}: {exc})"
        raise TransientConnectorError(_clean(message, secrets)) from exc


def fetch_media(
    url: str,
    *,
    allowed_host: str,
    max_bytes: int,
    timeout: float,
    secrets: tuple[str, ...],
    headers: dict[str, str] | None = None,
) -> bytes:
    """A file from the platform's own host only: a URL or redirect to any other host is
    refused, the whole download must finish within ``timeout`` seconds, and a file over
    ``max_bytes`` (announced or found while reading) raises ``MediaTooLarge``."""
    import httpx

    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        _check_host(url, allowed_host, secrets)
        check_public_address(url, secrets)
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code >= 400:
                    message = f"media download answered {response.status_code}"
                    if response.status_code >= 500 or response.status_code == 429:
                        raise TransientConnectorError(message, code=response.status_code)
                    raise PermanentConnectorError(message, code=response.status_code)
                announced = response.headers.get("content-length")
                if announced and announced.isdigit() and int(announced) > max_bytes:
                    raise MediaTooLarge(f"the file has {announced} bytes, over {max_bytes}")
                return _read_capped(response, max_bytes, "media download", secrets, deadline)
        except httpx.TimeoutException as exc:
            raise TransientConnectorError("media download timed out") from exc
        except httpx.HTTPError as exc:
            message = f"media download failed ({type(exc).__name__}: {exc})"
            raise TransientConnectorError(_clean(message, secrets)) from exc
    raise PermanentConnectorError("media download redirected too many times")


def retry_after(headers: dict[str, str], *, reset_header: str | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or an HTTP date) or a rate-limit reset
    header that holds the Unix time of the reset (X's ``x-rate-limit-reset``)."""
    if reset_header and (reset := headers.get(reset_header, "")).isdigit():
        return max(float(reset) - time.time(), 0.0)
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _check_host(url: str, allowed_host: str, secrets: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != allowed_host:
        shown = _clean(f"{parts.scheme}://{parts.hostname}", secrets)
        raise PermanentConnectorError(f"media refused: {shown} is not the platform's own host")


def _read_capped(
    response: Any,
    limit: int,
    what: str,
    secrets: tuple[str, ...],
    deadline: float | None = None,
) -> bytes:
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise MediaTooLarge(_clean(f"{what}: more than {limit} bytes", secrets))
        if deadline is not None and time.monotonic() > deadline:
            raise TransientConnectorError(f"{what} took too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = without_secret(text, secret)
    return text
