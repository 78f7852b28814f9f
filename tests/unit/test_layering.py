"""The import rules of ARCHITECTURE.md, checked on the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOTS = {"inbox/app.py", "inbox/cli.py"}
FRAMEWORKS = ("litestar", "dramatiq", "uvicorn", "websockets")


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
        if not name.startswith("inbox/web/") and name not in COMPOSITION_ROOTS
    ]
    forbidden = (*FRAMEWORKS, "workers", "inbox.web", "inbox.app", "inbox.cli", "connectors")
    assert _offending(inner, forbidden) == []


def test_queries_never_import_actions() -> None:
    assert _offending(_modules("inbox/queries"), ("inbox.actions",)) == []


def test_workers_never_reach_into_the_web_layer() -> None:
    assert _offending(_modules("workers"), ("inbox.web", "inbox.app", "litestar")) == []


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
