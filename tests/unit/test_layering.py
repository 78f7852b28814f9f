"""The import rules of ARCHITECTURE.md, checked on the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOTS = ("inbox/app.py", "inbox/cli/")
FRAMEWORKS = ("litestar", "dramatiq", "uvicorn", "websockets")
WEB = ROOT / "inbox" / "web"
# inbox/web by URL area, and the few modules every area shares.
WEB_AREAS = {
    "account",
    "admin",
    "api",
    "chat",
    "help",
    "live",
    "portal",
    "public",
    "reports",
    "tickets",
    "webhooks",
}
WEB_SHARED = {"__init__", "auth", "forms", "headers"}
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "websocket"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[tuple[str, set[str]]]:
    return [
        (str(path.relative_to(ROOT)), _imports(path))
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _offending(modules: list[tuple[str, set[str]]], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {imported}"
        for name, imports in modules
        for imported in sorted(imports)
        if imported.split(".")[0] in forbidden
        or imported in forbidden
        or any(imported.startswith(f + ".") for f in forbidden)
    ]


def test_connectors_are_a_leaf() -> None:
    assert _offending(_modules("connectors"), ("inbox", "workers")) == []


def test_models_do_no_io_and_know_no_framework() -> None:
    forbidden = (*FRAMEWORKS, "inbox.actions", "inbox.queries", "inbox.web", "workers")
    forbidden += ("connectors", "imapclient", "aiosmtplib", "httpx", "requests")
    assert _offending(_modules("inbox/models"), forbidden) == []


def test_actions_queries_and_pure_modules_stay_out_of_the_edges() -> None:
    inner = [
        (name, imports)
        for name, imports in _modules("inbox")
        if not name.startswith(("inbox/web/", "inbox/realtime/", *COMPOSITION_ROOTS))
    ]
    forbidden = (*FRAMEWORKS, "workers", "inbox.web", "inbox.app", "inbox.cli", "connectors")
    assert _offending(inner, forbidden) == []


def test_pure_rules_import_no_database_web_or_worker_code() -> None:
    forbidden = (*FRAMEWORKS, "sqlalchemy", "sqlmodel", "inbox.db", "inbox.models")
    forbidden += ("inbox.actions", "inbox.queries", "inbox.web", "inbox.realtime", "workers")
    forbidden += ("connectors", "httpx", "redis", "psycopg")
    assert _offending(_modules("inbox/rules"), forbidden) == []


def test_readers_of_stored_items_import_no_database_or_models() -> None:
    """A parser process imports them; the models would make it a second slower to start."""
    forbidden = (*FRAMEWORKS, "sqlalchemy", "sqlmodel", "inbox.db", "inbox.models")
    forbidden += ("inbox.actions", "inbox.queries", "inbox.web", "inbox.realtime", "workers")
    modules = _modules("inbox/parsing") + _modules("inbox/mail")
    assert _offending(modules, (*forbidden, "connectors")) == []


def test_realtime_carries_events_and_knows_no_actions_or_pages() -> None:
    """The hub is Litestar's channels plugin; nothing else of the web framework belongs here."""
    modules = _modules("inbox/realtime")
    forbidden = ("inbox.actions", "inbox.queries", "inbox.web", "inbox.models", "workers")
    assert _offending(modules, (*forbidden, "dramatiq", "uvicorn", "websockets")) == []
    litestar = {i for _, imports in modules for i in imports if i.split(".")[0] == "litestar"}
    assert all(i.startswith("litestar.channels") for i in litestar), litestar


def test_account_directory_interface_imports_no_actions() -> None:
    assert _offending(_modules("inbox/accounts"), ("inbox.actions", "inbox.queries")) == []


def test_queries_never_import_actions() -> None:
    assert _offending(_modules("inbox/queries"), ("inbox.actions",)) == []


def test_workers_never_reach_into_the_web_layer() -> None:
    assert _offending(_modules("workers"), ("inbox.web", "inbox.app", "litestar")) == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every import of the project's own modules, those inside functions included."""
    paths = [
        p for package in ("inbox", "workers", "connectors") for p in (ROOT / package).rglob("*.py")
    ]
    known = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in known and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_project_has_no_import_cycles() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_inbox_shows_its_layers_in_folders() -> None:
    """A newcomer opening inbox/ sees the layers, not a heap of loose modules."""
    packages = {p.name for p in (ROOT / "inbox").iterdir() if (p / "__init__.py").exists()}
    assert packages == {
        "accounts",
        "actions",
        "cli",
        "mail",
        "models",
        "parsing",
        "queries",
        "realtime",
        "rules",
        "web",
    }
    loose = {p.stem for p in (ROOT / "inbox").glob("*.py")}
    assert loose == {
        "__init__",
        "app",
        "blobs",
        "db",
        "demo",
        "errors",
        "events",
        "migrate",
        "settings",
        "signing",
    }
    for grouped in ("actions/inbound", "actions/sla", "actions/signin", "queries/reports"):
        assert (ROOT / "inbox" / grouped / "__init__.py").exists(), grouped


def test_a_parser_process_imports_only_the_mail_parser() -> None:
    """A spawned parser process imports the parent's main module and ``workers.parsing``; with
    the models or the web framework among them, it would take a second longer to be ready,
    and the mail waiting at start-up would be parsed beside the filing meanwhile."""
    probe = (
        "import sys, inbox.cli, workers.parsing;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel',"
        " 'litestar', 'dramatiq', 'alembic'}),"
        " 'inbox.models' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["[]", "False"]


def test_web_is_grouped_by_url_area() -> None:
    """Sign-in and account, tickets, admin, API, live, reports, the public survey: a package
    each, beside the modules they all share."""
    assert {p.name for p in WEB.iterdir() if (p / "__init__.py").exists()} == WEB_AREAS
    assert {p.stem for p in WEB.glob("*.py")} == WEB_SHARED


def _area(module: str) -> str | None:
    """The URL area of a module of inbox/web (``inbox/web/api/tickets.py``: api), or None."""
    parts = Path(module).relative_to("inbox/web").parts
    return parts[0] if len(parts) > 1 else None


def test_web_areas_reach_one_another_only_through_their_packages() -> None:
    """An area's modules are its own: another area imports what it offers from the package
    itself (``from inbox.web.reports import csv_response``), never from one of its modules;
    the shared modules import no area at all."""
    offending = []
    for name, imports in _modules("inbox/web"):
        own = _area(name)
        for imported in sorted(imports):
            parts = imported.split(".")
            if parts[:2] != ["inbox", "web"] or len(parts) < 3 or parts[2] not in WEB_AREAS:
                continue
            if own is None or (parts[2] != own and len(parts) > 3):
                offending.append(f"{name} imports {imported}")
    assert offending == []


def _routes(path: Path) -> list[tuple[str, str]]:
    """(decorator, path) of every route handler a module declares, with its controller's path."""
    tree = ast.parse(path.read_text(), filename=str(path))

    def declared(body: list[ast.stmt], prefix: str) -> list[tuple[str, str]]:
        return [
            (decorator.func.id, prefix.rstrip("/") + decorator.args[0].value)
            for node in body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for decorator in node.decorator_list
            if isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id in ROUTE_DECORATORS
            and decorator.args
            and isinstance(decorator.args[0], ast.Constant)
        ]

    found = declared(tree.body, "")
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            prefix = next(
                (
                    str(statement.value.value)
                    for statement in node.body
                    if isinstance(statement, ast.Assign)
                    and [getattr(t, "id", None) for t in statement.targets] == ["path"]
                    and isinstance(statement.value, ast.Constant)
                ),
                "",
            )
            found += declared(node.body, prefix)
    return found


def test_the_json_api_is_served_from_api_and_websockets_from_live() -> None:
    """Everything under /api/ (bearer tokens, JSON) and nothing else lives in ``api/``; the
    agents' websockets live in ``live/``, the chat visitor's (its own protocol) in ``chat/``."""
    routes = [
        (_area(str(path.relative_to(ROOT))), kind, route)
        for path in sorted(WEB.rglob("*.py"))
        for kind, route in _routes(path)
    ]
    assert ("api", "get", "/api/v1/tickets/{reference:str}") in routes
    assert ("live", "websocket", "/live") in routes
    assert ("admin", "post", "/admin/sla/policies/{policy_id:int}") in routes
    misplaced = [
        f"{area}: {kind} {route}"
        for area, kind, route in routes
        if route.startswith("/api/") != (area == "api")
        or (kind == "websocket" and area not in ("live", "chat"))
        or (area == "live" and kind != "websocket")
    ]
    assert misplaced == []


def test_every_admin_page_has_the_one_admin_skeleton() -> None:
    """One base controller (people only, the right role, not in /schema) and one template
    layout (heading, intro, error) serve every admin page."""
    controllers = [
        f"{path.name}: {node.name}"
        for path in sorted((WEB / "admin").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and node.name != "AdminController"
        and [getattr(base, "id", None) for base in node.bases] != ["AdminController"]
    ]
    assert controllers == []
    layout = '{% extends "pages/admin/layout.html" %}'
    pages = sorted((ROOT / "templates" / "pages" / "admin").glob("*.html"))
    assert len(pages) > 1
    elsewhere = [
        p.name for p in pages if p.name != "layout.html" and not p.read_text().startswith(layout)
    ]
    assert elsewhere == []


TEST_PACKAGES = ("tests.integration", "tests.browser", "tests.e2e", "tests.unit")


def _imported_modules(source: str, package: str) -> set[str]:
    """The modules a module of ``package`` imports, those inside functions and relative
    imports included (``from tests import browser`` counts as importing ``tests.browser``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _imports_of_test_modules(source: str, package: str) -> list[str]:
    """What of ``tests.integration``, ``tests.browser``, ``tests.e2e`` or ``tests.unit`` a
    module imports: the modules themselves, not the names taken from them."""
    found = sorted(
        name
        for name in _imported_modules(source, package)
        if any(name == p or name.startswith(p + ".") for p in TEST_PACKAGES)
    )
    return [name for name in found if not any(name.startswith(f + ".") for f in found)]


def test_no_test_module_imports_from_another() -> None:
    """Test modules share fixtures and helpers through ``tests/support`` (its fixtures are
    plugins, ``tests/conftest.py``), never by importing one another: a test module imported
    elsewhere has its fixtures and constants used where nobody looks for them."""
    offending = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for imported in _imports_of_test_modules(
            path.read_text(), _module_name(path).rsplit(".", 1)[0]
        )
    ]
    assert offending == [], "move what they share into tests/support:\n" + "\n".join(offending)


def test_the_test_import_finder_sees_every_way_of_importing() -> None:
    source = """
from tests.support.desks import BROKER
from tests.integration.test_live import open_live
import tests.browser.test_live
from tests import e2e

def test_late():
    from .test_portal import MARIA
    from ..unit import test_rules
"""
    assert _imports_of_test_modules(source, "tests.integration") == [
        "tests.browser.test_live",
        "tests.e2e",
        "tests.integration.test_live",
        "tests.integration.test_portal",
        "tests.unit",
    ]
