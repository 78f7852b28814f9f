"""API tokens are bearer credentials for ``/api/`` and nothing else: they skip the second
factor, so they must never open a page. They are kept hashed, read-only or read-write, can
expire, and are listed and revoked by the command line and on the admin pages."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from inbox.db import Database
from inbox.models import ApiToken, AuditEvent, utcnow
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel, new_ticket
from tests.support.processes import run_cli
from tests.support.signing_in import give_totp, sign_in_fully
from tests.support.web import Client, csrf_token, sign_in


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "accept": "text/html"}


def test_an_api_token_opens_no_page_and_so_skips_no_second_factor(
    client: Client, db: Database, settings: Settings
) -> None:
    # A manager's sign-in needs a second factor; a token of theirs skips it, so it may only
    # ever reach the API.
    _, token = make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    reference = new_ticket(db, settings, make_channel(db, settings))
    for path in ("/tickets", f"/tickets/{reference}", "/reports", "/reports/sla.csv"):
        answer = client.get(path, headers=bearer(token), follow_redirects=False)
        assert answer.status_code == 303, (path, answer.status_code)
        assert answer.headers["location"].startswith("/login?"), path
    assert client.get(f"/api/v1/tickets/{reference}", headers=bearer(token)).status_code == 200


def test_tokens_are_kept_hashed_with_a_scope_and_an_expiry(
    env: dict[str, str], db: Database, settings: Settings, app: Litestar
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, make_channel(db, settings))
    read = run_cli(
        env, "token", "create", "--agent", "agent@example.com", "--scope", "read", "--name", "BI"
    ).splitlines()[-1]
    expiring = run_cli(
        env, "token", "create", "--agent", "agent@example.com", "--expires", "1d", "--name", "day"
    ).splitlines()[-1]
    with db.reading() as session:
        rows = session.exec(select(ApiToken).order_by(ApiToken.id)).all()
        stored = repr([row.model_dump() for row in rows])
    assert read not in stored and expiring not in stored  # hashes only
    by_name = {row.name: row for row in rows}
    assert by_name["BI"].scope == "read" and by_name["BI"].expires_at is None
    day = by_name["day"]
    assert day.scope == "read-write" and day.expires_at is not None
    assert abs(day.expires_at - (utcnow() + timedelta(days=1))) < timedelta(minutes=5)

    with TestClient(app) as api:
        path = f"/api/v1/tickets/{reference}"
        assert api.get(path, headers=bearer(read)).status_code == 200
        refused = api.patch(path, json={"priority": "high"}, headers=bearer(read))
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        refused = api.post(f"{path}/notes", json={"body": "hi"}, headers=bearer(read))
        assert refused.status_code == 403
        assert (
            api.patch(path, json={"priority": "high"}, headers=bearer(expiring)).status_code == 200
        )

        with db.unit_of_work() as session:  # a day passes
            row = session.exec(select(ApiToken).where(ApiToken.name == "day")).one()
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        expired = api.get(path, headers=bearer(expiring))
        assert expired.status_code == 401 and expired.json()["error"] == "unauthorized"


def test_the_command_line_lists_and_revokes_tokens(
    env: dict[str, str], db: Database, app: Litestar
) -> None:
    make_agent(db)  # with a token of the test set-up
    token = run_cli(env, "token", "create", "--agent", "agent@example.com", "--name", "CRM sync")
    value = token.splitlines()[-1]
    listing = run_cli(env, "token", "list")
    row = next(line for line in listing.splitlines() if "CRM sync" in line)
    token_id = row.split()[0]
    assert "agent@example.com" in row and "read-write" in row and "active" in row
    assert value not in listing

    with TestClient(app) as api:
        assert api.get("/api/v1/tickets", headers=bearer(value)).status_code == 200
        assert f"revoked API token {token_id}" in run_cli(env, "token", "revoke", token_id)
        assert api.get("/api/v1/tickets", headers=bearer(value)).status_code == 401
    assert "revoked" in next(
        line
        for line in run_cli(env, "token", "list", "--agent", "agent@example.com").splitlines()
        if "CRM sync" in line
    )
    with db.reading() as session:
        revoked = session.exec(select(AuditEvent).where(AuditEvent.action == "token.revoke")).one()
    assert revoked.target_id == token_id and revoked.actor_label.startswith("cli:")


def test_administrators_list_and_revoke_tokens_on_the_admin_pages(
    client: Client, db: Database, settings: Settings, app: Litestar
) -> None:
    _, token = make_agent(db)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    give_totp(db, settings, "admin@example.com")
    assert sign_in_fully(client, db, "admin@example.com").status_code == 303
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200

    page = client.get("/admin/tokens")
    assert page.status_code == 200 and token not in page.text
    rows = re.findall(
        r'<tr class="token-row token-active" data-token="(\d+)">(.*?)</tr>', page.text, re.S
    )
    token_id, row = next((i, row) for i, row in rows if "agent@example.com" in row)
    assert "read-write" in row and "never" in row
    revoked = client.post(
        f"/admin/tokens/{token_id}/revoke",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 401
    assert 'class="token-row token-revoked"' in client.get("/admin/tokens").text
    audit = client.get("/admin/audit?action=token.revoke").text
    assert "admin@example.com" in audit

    with TestClient(app) as agent_browser:  # an agent administers no tokens
        assert sign_in(agent_browser).status_code == 303
        assert agent_browser.get("/admin/tokens").status_code == 403
