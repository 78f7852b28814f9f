"""Signing in over HTTP with a second factor, and what a browser keeps of it: for the tests of
device cookies, throttles, sessions and the administration of sign-in."""

from __future__ import annotations

import time

from httpx import Response
from sqlmodel import select

from inbox.actions.signin.two_factor import set_known_totp_secret
from inbox.db import Database
from inbox.models import Agent, utcnow
from inbox.rules.totp import hotp, time_step
from inbox.settings import Settings
from tests.support.desk import PASSWORD, agent_by_email
from tests.support.web import Client, csrf_token, post_form, sign_in

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_totp(db: Database, settings: Settings, email: str) -> None:
    """The agent's authenticator app shows codes for ``TOTP_SECRET``."""
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        set_known_totp_secret(session, settings, agent, TOTP_SECRET)


def totp_code(db: Database, email: str) -> str:
    """A code the agent's app shows now (or within the step of drift the desk allows) that
    the desk has not accepted yet: each time step works once per agent."""
    while True:
        now = time_step(utcnow())
        spent = agent_by_email(db, email).totp_last_step
        # Not the step before this one: it would be two steps old, and refused, if the
        # clock turned before the desk checks it.
        step = max(now, (spent or 0) + 1)
        if step <= now + 1:
            return hotp(TOTP_SECRET, step)
        time.sleep(1)


def prove_totp(client: Client, code: str, next: str = "/tickets") -> Response:
    return post_form(
        client,
        "/login/two-factor",
        "/login/two-factor",
        {"method": "totp", "code": code, "next": next},
    )


def sign_in_fully(client: Client, db: Database, email: str, password: str = PASSWORD) -> Response:
    """Password, then (when the answer asks for it) the authenticator code."""
    answer = sign_in(client, email, password)
    if answer.status_code == 303 and answer.headers["location"].startswith("/login/two-factor"):
        return prove_totp(client, totp_code(db, email))
    return answer


def signed_in(client: Client) -> bool:
    return client.get("/account/two-factor", follow_redirects=False).status_code == 200


def sign_out(client: Client) -> None:
    """The sign-out button; the browser keeps its other cookies (the device cookie)."""
    page = client.get("/account/two-factor")
    client.post("/logout", data={"_csrf_token": csrf_token(page.text)})
