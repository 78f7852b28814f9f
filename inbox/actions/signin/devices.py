"""Device cookies: OWASP's way to slow down online guessing without letting an attacker lock
the real user out.

A browser that completes a sign-in gets a device cookie, ``<agent id>.<nonce>.<signature>``,
signed with the instance secret; the desk keeps the hash of the nonce with a failure count of
its own. When that browser signs in as that agent again, the agent's lockout and the throttle
of its network address do not apply: those count what comes from elsewhere. Its own wrong
passwords and codes count against the cookie alone, and lock the cookie alone out.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from inbox.models import Agent, SignInDevice, utcnow
from inbox.signing import hash_token, new_token

DEVICE_LIFETIME = timedelta(days=90)
DEVICE_MAX_FAILURES = 5
DEVICE_LOCKOUT = timedelta(minutes=15)


def _signature(secret_key: bytes, agent_id: int, nonce: str) -> str:
    message = f"device:{agent_id}.{nonce}".encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()


def _parse(secret_key: bytes, cookie: str) -> tuple[int, str] | None:
    """The agent id and nonce of a well-signed device cookie, or None."""
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 18:
        return None
    agent_id, nonce, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(_signature(secret_key, agent_id, nonce), signature):
        return None
    return agent_id, nonce


def trusted_device(
    session: Session, secret_key: bytes, agent: Agent, cookie: str | None
) -> SignInDevice | None:
    """The device behind ``cookie`` if it is a valid, unexpired device cookie of this agent."""
    parsed = _parse(secret_key, cookie) if cookie else None
    if parsed is None or parsed[0] != agent.id:
        return None
    return session.exec(
        select(SignInDevice).where(
            SignInDevice.nonce_hash == hash_token(parsed[1]),
            SignInDevice.agent_id == agent.id,
            col(SignInDevice.expires_at) > utcnow(),
        )
    ).first()


def device_locked(device: SignInDevice) -> bool:
    return bool(device.locked_until and device.locked_until > utcnow())


def record_device_failure(session: Session, device: SignInDevice) -> None:
    """A wrong password or code from this device; the fifth in a row locks out this device."""
    device.failed_logins += 1
    if device.failed_logins >= DEVICE_MAX_FAILURES:
        device.locked_until = utcnow() + DEVICE_LOCKOUT
        device.failed_logins = 0
    session.add(device)


def remember_device(session: Session, secret_key: bytes, agent: Agent, cookie: str | None) -> str:
    """After a complete sign-in: the device cookie to set, the browser's own renewed if it
    had one for this agent, else a new one. Expired devices of the agent are forgotten."""
    now = utcnow()
    session.execute(
        delete(SignInDevice).where(
            col(SignInDevice.agent_id) == agent.id, col(SignInDevice.expires_at) <= now
        )
    )
    device = trusted_device(session, secret_key, agent, cookie)
    parsed = _parse(secret_key, cookie) if device is not None and cookie else None
    if device is None or parsed is None:
        nonce = new_token()
        device = SignInDevice(agent_id=agent.id or 0, nonce_hash=hash_token(nonce), expires_at=now)
    else:
        nonce = parsed[1]
    device.expires_at = now + DEVICE_LIFETIME
    device.failed_logins = 0
    device.locked_until = None
    session.add(device)
    return f"{agent.id}.{nonce}.{_signature(secret_key, agent.id or 0, nonce)}"


def unlock_devices(session: Session, agent: Agent) -> int:
    """Lifts the lockout of every device of the agent; how many were locked."""
    locked = session.exec(
        select(SignInDevice).where(
            SignInDevice.agent_id == agent.id, col(SignInDevice.locked_until) > utcnow()
        )
    ).all()
    for device in locked:
        device.locked_until = None
        device.failed_logins = 0
        session.add(device)
    return len(locked)
