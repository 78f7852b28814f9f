"""The JSON API is exempt from the CSRF check because a cookie never opens it; the exemption
covers paths that begin with ``/api/`` and nothing else. A browser path with ``/api/`` further
in (a ticket reference, a slug, a page of the admin area) is checked like any other."""

from __future__ import annotations

from inbox.db import Database
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel, new_ticket
from tests.support.web import Client, sign_in


def test_browser_paths_with_api_inside_them_need_the_csrf_token(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    assert sign_in(client).status_code == 303
    for path in ("/tickets/api/notes", "/tickets/api/replies", "/tickets/api/snooze"):
        # A cross-site form posts with the agent's cookies and without the token.
        forged = client.post(path, data={"body": "from another site"}, follow_redirects=False)
        assert forged.status_code == 403, (path, forged.status_code)
        assert "csrf" in forged.text.lower(), path


def test_the_api_itself_needs_no_csrf_token(
    client: Client, db: Database, settings: Settings
) -> None:
    _, token = make_agent(db)
    reference = new_ticket(db, settings, make_channel(db, settings))
    noted = client.post(
        f"/api/v1/tickets/{reference}/notes",
        json={"body": "checked the payment log"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert noted.status_code in (200, 201), noted.text
