"""axe-core in a real browser: the checks of the accessibility browser tests.

axe-core is vendored under ``inbox/web/static/vendor/`` (``VENDORED.md``) but no page of the
desk loads it. :func:`assert_accessible` adds it to the page it checks as a ``<script src>``
on the desk's own static path: that is a script file of the page's own origin, so the page's
Content-Security-Policy (``script-src 'self'``) lets it run and the check happens under the
policy the desk really sends. (Playwright's ``add_script_tag(path=...)`` would add it as an
inline script, which the policy refuses.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE_FILE = (
    Path(__file__).resolve().parents[2]
    / "inbox/web/static/vendor"
    / f"axe-core-{AXE_VERSION}"
    / "axe.min.js"
)
AXE_URL = f"/static/vendor/axe-core-{AXE_VERSION}/axe.min.js"
FAILING = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html,
                                summary: n.failureSummary || ""})),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every violation axe-core finds on the page as it is now (any impact)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        assert AXE_FILE.is_file(), f"{AXE_FILE} is missing"
        page.add_script_tag(url=AXE_URL)
        assert page.evaluate("() => typeof window.axe === 'object'"), (
            f"axe-core did not load from {AXE_URL} on {page.url}"
        )
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return violations


def describe(violations: list[dict[str, Any]], limit: int = 5) -> str:
    """One paragraph a person can act on per violation: the rule, what to do, where."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:limit]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for hint in node["summary"].splitlines()[1:3]:
                lines.append(f"        {hint.strip()}")
        if len(v["nodes"]) > limit:
            lines.append(f"    ... and {len(v['nodes']) - limit} more")
    return "\n".join(lines)


def accessibility_problems(page: Any, what: str = "") -> str:
    """The serious and critical violations axe-core finds on the page, described; empty when
    there are none."""
    found = [v for v in axe_violations(page) if v["impact"] in FAILING]
    if not found:
        return ""
    scheme = page.evaluate(
        "() => matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'"
    )
    return (
        f"axe-core {AXE_VERSION} found {len(found)} serious or critical violation(s) on "
        f"{what or page.url} ({page.url}, {scheme} colour scheme):\n{describe(found)}"
    )


def assert_accessible(page: Any, what: str = "") -> None:
    """Fails when axe-core finds a serious or critical violation on the page."""
    problems = accessibility_problems(page, what)
    assert not problems, problems
