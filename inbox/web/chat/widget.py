"""``/chat/widget.js`` (and its stylesheet) for sites to embed, and ``/chat/demo``, a page
where anyone can try the widget against this desk."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import Channel
from inbox.models.kinds import ChannelKind
from inbox.settings import Settings
from inbox.web.auth import PUBLIC

STATIC = Path(__file__).resolve().parent.parent / "static"
# The widget changes with the desk's version: browsers ask again after a few minutes.
CACHE = {"cache-control": "public, max-age=300"}


class ChatWidgetPages(Controller):
    path = "/chat"
    include_in_schema = False

    @get("/widget.js", opt=PUBLIC, sync_to_thread=False)
    def widget(self) -> Response[bytes]:
        return Response(
            (STATIC / "chat-widget.js").read_bytes(),
            media_type="text/javascript",
            headers=CACHE,
        )

    @get("/widget.css", opt=PUBLIC, sync_to_thread=False)
    def stylesheet(self) -> Response[bytes]:
        """Loaded inside the widget's shadow root: the host page's styles never reach it."""
        return Response(
            (STATIC / "chat-widget.css").read_bytes(),
            media_type="text/css",
            headers={**CACHE, "access-control-allow-origin": "*"},
        )

    @get("/demo", opt=PUBLIC, sync_to_thread=True)
    def demo(
        self,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        widget: FromQuery[str] = "",
    ) -> Template:
        """The first chat channel whose sites include this desk, unless ``widget`` names
        another."""
        with db.reading() as session:
            channels = session.exec(
                select(Channel)
                .where(Channel.kind == ChannelKind.CHAT, col(Channel.enabled).is_(True))
                .order_by(col(Channel.id))
            ).all()
        keys = [str(c.config.get("widget_key", "")) for c in channels]
        key = widget if widget in keys else (keys[0] if keys else "")
        return Template(
            "chat/demo.html", context={"widget_key": key, "base_url": settings.base_url}
        )
