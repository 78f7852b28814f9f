"""The satisfaction survey a customer answers through the signed link in the survey mail."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from inbox.actions.followups import answer_survey, find_survey
from inbox.db import Database
from inbox.errors import Conflict, InvalidInput
from inbox.models import Ticket
from inbox.settings import Settings
from inbox.web.auth import PRIVATE, PUBLIC
from inbox.web.forms import FormBody, status_of


class SurveyPages(Controller):
    """Reached from the survey mail: no sign-in, the signed token is the only key. Looking
    at the page records nothing (mail scanners follow links); only the form's POST does."""

    path = "/survey"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC, sync_to_thread=True)
    def form(
        self,
        token: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        score: FromQuery[int | None] = None,
    ) -> Template:
        with db.reading() as session:
            survey = find_survey(session, settings.secret_key, token)
            ticket = session.get(Ticket, survey.ticket_id)
        context = {
            "token": token,
            "reference": ticket.reference if ticket else "",
            "answered": survey.answered_at is not None,
            "score": score if score in range(1, 6) else None,
        }
        return Template("pages/survey.html", context=context, headers=PRIVATE)

    @post("/{token:str}", opt=PUBLIC, sync_to_thread=True)
    def answer(
        self,
        token: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        score_text = data.get("score", "").strip()
        reference = ""
        try:
            with db.unit_of_work() as session:
                survey = answer_survey(
                    session,
                    settings.secret_key,
                    token,
                    score=int(score_text) if score_text.isdigit() else 0,
                    comment=data.get("comment", ""),
                )
                ticket = session.get(Ticket, survey.ticket_id)
                reference = ticket.reference if ticket else ""
        except (InvalidInput, Conflict) as exc:
            with db.reading() as session:
                survey = find_survey(session, settings.secret_key, token)
                ticket = session.get(Ticket, survey.ticket_id)
            return Template(
                "pages/survey.html",
                context={
                    "token": token,
                    "reference": ticket.reference if ticket else "",
                    "answered": survey.answered_at is not None,
                    "error": str(exc),
                    "comment": data.get("comment", "")[:2000],
                },
                status_code=status_of(exc),
                headers=PRIVATE,
            )
        return Template(
            "pages/survey.html",
            context={"token": token, "reference": reference, "thanks": True},
            headers=PRIVATE,
        )
