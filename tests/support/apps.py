"""The app of the in-process tests, built once per test process.

Building it costs most of a second (Litestar prepares every route and its signature), and
hundreds of tests want one. The tests of one process share their settings (see ``env`` in
tests/conftest.py: the same data folder, database address and secret, with a fresh database
under them for every test), so the app built for the first serves the rest.
"""

from __future__ import annotations

from litestar import Litestar

from inbox.settings import Settings
from workers.runtime import Runtime

_built: dict[Settings, tuple[Litestar, Runtime]] = {}


def app_for(settings: Settings) -> tuple[Litestar, Runtime]:
    """The app for ``settings`` (no background work: tests drive the workers) and its
    runtime, which becomes the runtime of this process's actors again."""
    from inbox.app import create_app  # here, not at load: unit tests need not import the app
    from workers.runtime import get_runtime, set_runtime

    if settings not in _built:
        app = create_app(settings, background=False)
        _built[settings] = (app, get_runtime())
    app, rt = _built[settings]
    set_runtime(rt)
    return app, rt


def close_connections() -> None:
    """Before the next test's database takes the place of the last one: no connection of an
    app built here may stay open on the old one."""
    for _app, rt in _built.values():
        rt.db.dispose()
