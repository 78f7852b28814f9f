"""``/chat/confirm``: a chat visitor confirms the email address they typed, by the link the
desk mailed it (``inbox.actions.chat.email_proof``). Opening the link changes nothing (mail
scanners open links); its button does."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from inbox.actions.chat.email_proof import INVALID_PROOF, prove_email, visitor_of_proof
from inbox.db import Database
from inbox.errors import DomainError
from inbox.models import utcnow
from inbox.settings import Settings
from inbox.web.auth import PRIVATE, PUBLIC
from inbox.web.forms import FormBody


class ChatConfirmPages(Controller):
    path = "/chat/confirm"
    include_in_schema = False

    @get("/", opt=PUBLIC, sync_to_thread=True)
    def page(
        self,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        token: FromQuery[str] = "",
    ) -> Template:
        try:
            with db.reading() as session:
                visitor = visitor_of_proof(session, settings, token, now=utcnow())
                address, proven = visitor.claimed_email, visitor.email_proven_at is not None
        except DomainError:
            return self._invalid()
        context = {"token": token, "address": address, "done": proven}
        return Template("chat/confirm.html", context=context, headers=PRIVATE)

    @post("/", opt=PUBLIC, sync_to_thread=True)
    def confirm(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], data: FormBody
    ) -> Template:
        try:
            with db.unit_of_work() as session:
                address = prove_email(session, settings, data.get("token", ""), now=utcnow())
                shown = address.claimed_email
        except DomainError:
            return self._invalid()
        return Template(
            "chat/confirm.html", context={"address": shown, "done": True}, headers=PRIVATE
        )

    def _invalid(self) -> Template:
        return Template(
            "chat/confirm.html", context={"error": INVALID_PROOF}, status_code=400, headers=PRIVATE
        )
