"""An X account's direct messages as a pulled channel (``connectors.get("x")``).

``GET {api_url}/2/dm_events`` answers the account's DM events newest first, a page at a time
(``meta.next_token``, asked back as ``pagination_token``). The cursor keeps the newest event
id already stored (``last_event_id``); a pass reads pages until it meets that id (ids grow
with time), stores what is newer, oldest first, and moves the cursor to the newest. A pass
cut short by the rate limit keeps where it stood (``resume_token``, ``resume_newest``) and
goes on from there, so no gap opens between two passes.

Every answer carries ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (Unix seconds): at
0 remaining the session asks nothing more before the reset, and a 429 raises a transient
error that carries the wait.

Replies: ``POST {api_url}/2/dm_conversations/with/{participant_id}/messages`` with
``{"text": ...}``, answered ``201 {"data": {"dm_conversation_id", "dm_event_id"}}``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import DeliveryReport, Outbound, Pulled, PushReceiver, RawInbound
from connectors.errors import (
    CredentialsRefused,
    PermanentConnectorError,
    TransientConnectorError,
)
from connectors.social_http import Answer, call, retry_after

DEFAULT_API_URL = "https://api.x.com"
EVENT_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids"
MAX_PAGES = 20


class XConnector:
    kind = "x"
    pulled = True
    push: PushReceiver | None = None

    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def request(
        self,
        config: Mapping[str, str],
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Answer:
        token = config.get("token", "")
        if not token:
            raise PermanentConnectorError("the X channel has no access token")
        base = (config.get("api_url") or DEFAULT_API_URL).rstrip("/")
        answer = call(
            method,
            base + path,
            secrets=(token,),
            what=f"X {method} {path.split('?')[0]}",
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {token}"},
            params=params,
            json_body=body,
        )
        if answer.status < 400:
            return answer
        data = answer.json() if isinstance(answer.json(), dict) else {}
        text = str(data.get("detail") or data.get("title") or f"HTTP {answer.status}")
        message = f"X refused {method} {path.split('?')[0]}: {text}"
        if answer.status == 429:
            wait = retry_after(answer.headers, reset_header="x-rate-limit-reset")
            raise TransientConnectorError(message, code=429, server_text=text, retry_after=wait)
        if answer.status == 401:
            raise CredentialsRefused(f"X refused the access token ({text})", code=401)
        if answer.status >= 500:
            raise TransientConnectorError(message, code=answer.status, server_text=text)
        raise PermanentConnectorError(message, code=answer.status, server_text=text)

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> DeliveryReport:
        participant = outbound.recipients[0] if outbound.recipients else ""
        text = str(json.loads(outbound.payload).get("text", ""))
        answer = self.request(
            config, "POST", f"/2/dm_conversations/with/{participant}/messages", body={"text": text}
        )
        data = answer.json()
        event = data.get("data", {}).get("dm_event_id", "") if isinstance(data, dict) else ""
        return DeliveryReport("sent", external_id=str(event))

    def open_session(self, config: Mapping[str, str]) -> _Deliveries:
        return _Deliveries(self, config)

    def open_pull(self, config: Mapping[str, str]) -> XPull:
        return XPull(self, config)

    def check(self, config: Mapping[str, str]) -> str:
        data = self.request(config, "GET", "/2/users/me").json()
        return str(data.get("data", {}).get("username", "")) if isinstance(data, dict) else ""


class _Deliveries:
    def __init__(self, connector: XConnector, config: Mapping[str, str]) -> None:
        self.connector = connector
        self.config = config

    def deliver(self, outbound: Outbound) -> DeliveryReport:
        return self.connector.deliver(self.config, outbound)

    def close(self) -> None:
        pass


class XPull:
    def __init__(self, connector: XConnector, config: Mapping[str, str]) -> None:
        self.connector = connector
        self.config = config
        self.not_before = 0.0  # Unix time: the rate limit is spent until then
        self._stopping = threading.Event()

    def __enter__(self) -> XPull:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_since(
        self, cursor: Mapping[str, Any], *, batch_size: int, max_bytes: int, batch_bytes: int
    ) -> Iterator[Pulled]:
        if time.time() < self.not_before:
            return
        last = str(cursor.get("last_event_id") or "")
        token = str(cursor.get("resume_token") or "")
        newest = str(cursor.get("resume_newest") or "")
        events: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        reached = False
        for _ in range(MAX_PAGES):
            params = {
                "dm_event.fields": EVENT_FIELDS,
                "event_types": "MessageCreate",
                "expansions": "sender_id",
                "user.fields": "name,username",
                "max_results": "100",
            }
            if token:
                params["pagination_token"] = token
            answer = self.connector.request(self.config, "GET", "/2/dm_events", params=params)
            data = answer.json() if isinstance(answer.json(), dict) else {}
            for user in data.get("includes", {}).get("users", []) or []:
                if isinstance(user, dict):
                    users[str(user.get("id"))] = user
            for event in data.get("data", []) or []:
                if not isinstance(event, dict):
                    continue
                if last and _not_newer(str(event.get("id", "")), last):
                    reached = True
                    break
                events.append(event)
                newest = newest or str(event.get("id", ""))
            token = str((data.get("meta") or {}).get("next_token") or "")
            if reached or not token:
                reached = True
                break
            if answer.headers.get("x-rate-limit-remaining") == "0":
                reset = retry_after(answer.headers, reset_header="x-rate-limit-reset") or 60.0
                self.not_before = time.time() + reset
                break
        items = [self._item(event, users) for event in reversed(events)]
        if reached:
            after = {"last_event_id": newest or last}
        else:  # stopped by the rate limit: go on from this page next time
            after = {"last_event_id": last, "resume_token": token, "resume_newest": newest}
        yield Pulled(items=items, cursor=after)

    def _item(self, event: dict[str, Any], users: dict[str, dict[str, Any]]) -> RawInbound:
        sender = users.get(str(event.get("sender_id")), {})
        raw = json.dumps(
            {"event": event, "sender": sender, "user_id": self.config.get("user_id", "")},
            ensure_ascii=False,
        ).encode()
        return RawInbound(str(event.get("id")), raw, len(raw))

    def confirm(self, pulled: Pulled) -> None:
        pass

    def wait_for_changes(self, timeout: float) -> bool:
        return self._stopping.wait(timeout)

    def wake(self) -> None:
        self._stopping.set()

    @property
    def pushes_changes(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _not_newer(event_id: str, last: str) -> bool:
    """X ids grow with time; compared as numbers when both are."""
    if event_id.isdigit() and last.isdigit():
        return int(event_id) <= int(last)
    return event_id == last
