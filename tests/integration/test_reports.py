"""The manager's SLA report, over HTTP, on tickets whose clocks the real actions kept.

One desk, open round the clock (business minutes are calendar minutes except while a ticket
waits on the customer), one policy: first response in 60 minutes, resolution in 600. Four
tickets, all created on day D ten days ago:

- Billing, T1 at 08:00 UTC: answered after 10 minutes, resolved after 100.
- Billing, T2 at 08:00 UTC: answered after 30 minutes and set waiting on the customer, who
  writes back after 80; resolved after 200 (150 business minutes: 50 were spent waiting).
  Its subject is a spreadsheet formula.
- Fraud, T3 at 08:00 UTC: answered after 90 minutes, resolved after 700: both targets missed.
- Fraud, T4 at 23:30 UTC: never answered, still open: both targets missed. In Berlin it was
  created on D+1, at 00:30.

A fifth ticket (Billing) is opened today: the backlog's youngest.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent, AgentSession, utcnow
from inbox.settings import Settings
from inbox.signing import hash_token, new_token
from inbox.web.auth import SESSION_COOKIE
from tests.support.report_desk import DAY, B, ReportDesk, minutes
from tests.support.sla_story import Story

Client = TestClient[Litestar]
FORMULA = '=HYPERLINK("http://evil.example/","Refund")'
RANGE = {"from": (DAY - timedelta(days=1)).isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}


@pytest.fixture
def report_desk(db: Database, settings: Settings) -> ReportDesk:
    desk = ReportDesk(db, settings)
    t1 = desk.story("T1", "Billing", B, "Card declined")
    t1.agent_replies(minutes(10))
    t1.changed(minutes(100), status="resolved")
    t2 = desk.story("T2", "Billing", B, FORMULA)
    t2.agent_replies(minutes(30), status_after="waiting on customer")
    t2.customer_writes(minutes(80))
    t2.changed(minutes(200), status="resolved")
    t3 = desk.story("T3", "Fraud", B, "Chargeback")
    t3.agent_replies(minutes(90))
    t3.changed(minutes(700), status="resolved")
    desk.story("T4", "Fraud", datetime.combine(DAY, time(23, 30), tzinfo=UTC), "Stolen card")
    t5 = Story(db, desk.settings, desk.channel_id, "admin@example.com", desk.policy_id)
    t5.opened(utcnow(), subject="Opened today")
    t5.changed(utcnow(), team="Billing")
    desk.refs["T5"] = t5.reference
    desk.recompute_all()
    return desk


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report(client: Client, token: str, **params: str) -> dict[str, Any]:
    response = client.get(
        "/api/v1/reports/sla", params={**RANGE, "tz": "UTC", **params}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def sign_in_browser(report_desk: ReportDesk, client: Client, email: str) -> None:
    raw = new_token()
    with report_desk.db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        session.add(
            AgentSession(
                token_hash=hash_token(raw),
                agent_id=agent.id or 0,
                expires_at=utcnow() + timedelta(hours=1),
                second_factor_at=utcnow(),
            )
        )
    client.cookies.set(SESSION_COOKIE, raw)


def by_target(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["target"]: row for row in rows}


def test_compliance_per_target_counts_met_and_missed_clocks(
    report_desk: ReportDesk, client: Client
) -> None:
    body = report(client, report_desk.admin_token)
    totals = by_target(body["totals"])
    assert totals["first_response"] == {
        "target": "first_response",
        "met": 2,
        "breached": 2,
        "open": 0,
        "percent": 50.0,
    }
    assert totals["resolution"]["met"] == 2
    assert totals["resolution"]["breached"] == 2
    assert totals["resolution"]["percent"] == 50.0
    assert "next_response" not in totals
    assert {(c["target"], c["group"], c["met"]) for c in body["compliance"]} == {
        ("first_response", "Round the clock", 2),
        ("resolution", "Round the clock", 2),
    }


def test_compliance_grouped_by_team(report_desk: ReportDesk, client: Client) -> None:
    body = report(client, report_desk.admin_token, group_by="team")
    rows = {
        (c["target"], c["group"]): (c["met"], c["breached"], c["percent"])
        for c in body["compliance"]
    }
    assert rows[("first_response", "Billing")] == (2, 0, 100.0)
    assert rows[("first_response", "Fraud")] == (0, 2, 0.0)
    assert rows[("resolution", "Fraud")] == (0, 2, 0.0)


def test_medians_and_90th_percentiles_in_business_and_calendar_minutes(
    report_desk: ReportDesk, client: Client
) -> None:
    times = by_target(report(client, report_desk.admin_token)["times"])
    # First responses: 10, 30 and 90 minutes; T4 was never answered.
    assert times["first_response"]["count"] == 3
    assert times["first_response"]["business_minutes"] == {"median": 30.0, "p90": 90.0}
    assert times["first_response"]["calendar_minutes"] == {"median": 30.0, "p90": 90.0}
    # Resolutions: 100, 150 (200 less 50 waiting on the customer) and 700.
    assert times["resolution"]["business_minutes"] == {"median": 150.0, "p90": 700.0}
    assert times["resolution"]["calendar_minutes"] == {"median": 200.0, "p90": 700.0}


def test_breaches_are_listed_with_links_to_their_tickets(
    report_desk: ReportDesk, client: Client
) -> None:
    body = report(client, report_desk.admin_token)
    breaches = {(b["reference"], b["target"]) for b in body["breaches"]}
    assert breaches == {
        (report_desk.refs["T3"], "first_response"),
        (report_desk.refs["T3"], "resolution"),
        (report_desk.refs["T4"], "first_response"),
        (report_desk.refs["T4"], "resolution"),
    }
    assert all(b["url"].endswith(f"/tickets/{b['reference']}") for b in body["breaches"])
    sign_in_browser(report_desk, client, "admin@example.com")
    page = client.get("/reports", params={**RANGE, "tz": "UTC"})
    assert page.status_code == 200
    assert f'href="/tickets/{report_desk.refs["T4"]}"' in page.text


def test_backlog_counts_unresolved_tickets_by_age(report_desk: ReportDesk, client: Client) -> None:
    backlog = {b["bucket"]: b["count"] for b in report(client, report_desk.admin_token)["backlog"]}
    assert backlog == {
        "under 1 day": 1,
        "1-3 days": 0,
        "3-7 days": 0,
        "7-30 days": 1,
        "over 30 days": 0,
    }


def test_volume_per_day_follows_the_time_zone(report_desk: ReportDesk, client: Client) -> None:
    def per_day(tz: str) -> dict[str, int]:
        body = report(client, report_desk.admin_token, tz=tz)
        assert body["tz"] == tz
        return {v["date"]: v["count"] for v in body["volume"] if v["count"]}

    assert per_day("UTC") == {DAY.isoformat(): 4}
    # T4 came at 23:30 UTC: half past midnight the next day in Berlin.
    assert per_day("Europe/Berlin") == {
        DAY.isoformat(): 3,
        (DAY + timedelta(days=1)).isoformat(): 1,
    }


def test_an_unknown_time_zone_or_bad_dates_answer_422(
    report_desk: ReportDesk, client: Client
) -> None:
    for params in ({"tz": "Mars/Olympus"}, {"from": "yesterday"}, {"group_by": "mood"}):
        response = client.get(
            "/api/v1/reports/sla",
            params={**RANGE, **params},
            headers=bearer(report_desk.admin_token),
        )
        assert response.status_code == 422
        assert response.json()["error"] == "invalid"


def test_json_has_one_row_per_ticket_and_target(report_desk: ReportDesk, client: Client) -> None:
    body = report(client, report_desk.admin_token)
    rows = {(r["reference"], r["target"]): r for r in body["rows"]}
    assert len(rows) == 8  # four tickets, two targets each
    t2 = rows[(report_desk.refs["T2"], "resolution")]
    assert t2["state"] == "met"
    assert t2["policy"] == "Round the clock"
    assert t2["business_minutes_used"] == 150.0
    assert t2["team"] == "Billing"
    assert t2["channel"] == "Support"
    assert t2["priority"] == "normal"
    assert datetime.fromisoformat(t2["met_at"]) == minutes(200)
    assert t2["breached_at"] is None
    t4 = rows[(report_desk.refs["T4"], "first_response")]
    assert t4["met_at"] is None
    assert datetime.fromisoformat(t4["breached_at"]) == datetime.combine(
        DAY, time(23, 30), tzinfo=UTC
    ) + timedelta(minutes=60)
    assert body["satisfaction"] == {"answers": 0, "average": None}


def test_csv_neutralises_spreadsheet_formulas(report_desk: ReportDesk, client: Client) -> None:
    response = client.get(
        "/api/v1/reports/sla",
        params={**RANGE, "tz": "UTC", "format": "csv"},
        headers=bearer(report_desk.admin_token),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    subjects = {r["subject"] for r in rows if r["reference"] == report_desk.refs["T2"]}
    assert subjects == {"'" + FORMULA}
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    sign_in_browser(report_desk, client, "manager@example.com")
    download = client.get("/reports/sla.csv", params={**RANGE, "tz": "UTC"})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert "'=HYPERLINK" in download.text


def test_a_manager_sees_only_their_teams_tickets(report_desk: ReportDesk, client: Client) -> None:
    body = report(client, report_desk.manager_token)
    assert {r["reference"] for r in body["rows"]} == {
        report_desk.refs["T1"],
        report_desk.refs["T2"],
    }
    assert by_target(body["totals"])["first_response"]["percent"] == 100.0
    assert body["breaches"] == []
    assert {b["bucket"]: b["count"] for b in body["backlog"]}["7-30 days"] == 0
    sign_in_browser(report_desk, client, "manager@example.com")
    drill = client.get(
        "/reports/tickets",
        params={**RANGE, "tz": "UTC", "target": "first_response", "outcome": "met"},
    )
    assert drill.status_code == 200
    assert report_desk.refs["T1"] in drill.text and report_desk.refs["T2"] in drill.text
    hidden = client.get("/reports/tickets", params={**RANGE, "tz": "UTC", "backlog": "3"})
    assert report_desk.refs["T4"] not in hidden.text


def test_an_administrator_sees_every_team(report_desk: ReportDesk, client: Client) -> None:
    body = report(client, report_desk.admin_token)
    assert {r["reference"] for r in body["rows"]} == {
        report_desk.refs[name] for name in ("T1", "T2", "T3", "T4")
    }
    sign_in_browser(report_desk, client, "admin@example.com")
    drill = client.get("/reports/tickets", params={**RANGE, "tz": "UTC", "backlog": "3"})
    assert report_desk.refs["T4"] in drill.text
    # The times are taken over stopped clocks: their count links to exactly those tickets.
    page = client.get("/reports", params={**RANGE, "tz": "UTC"}).text
    times = page[page.index('id="times"') :]
    link = re.search(r'href="([^"]*target=resolution[^"]*)">3</a>', times)
    assert link and "outcome=stopped" in link.group(1), times[:2000]
    stopped = client.get(link.group(1).replace("&amp;", "&")).text
    assert all(report_desk.refs[name] in stopped for name in ("T1", "T2", "T3"))
    assert report_desk.refs["T4"] not in stopped  # still running


def test_agents_get_403_on_reports(report_desk: ReportDesk, client: Client) -> None:
    response = client.get(
        "/api/v1/reports/sla", params=RANGE, headers=bearer(report_desk.agent_token)
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    sign_in_browser(report_desk, client, "agent@example.com")
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/sla.csv").status_code == 403
    assert "/reports" not in client.get("/tickets").text


def test_the_page_draws_svg_charts_whose_bars_link_to_tickets(
    report_desk: ReportDesk, client: Client
) -> None:
    sign_in_browser(report_desk, client, "manager@example.com")
    page = client.get("/reports", params={**RANGE, "tz": "Europe/Berlin"})
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "<script" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'href="/reports/tickets?' in page.text
    assert "No survey answers yet." in page.text
    assert 'href="/reports"' in page.text  # the nav link
    moved = client.get("/reports/sla", params={**RANGE, "tz": "UTC"}, follow_redirects=False)
    assert moved.status_code == 302
    assert moved.headers["location"].startswith("/reports?from=")
