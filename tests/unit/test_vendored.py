import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "inbox" / "web" / "static" / "vendor"
PINNED = {
    "htmx-2.0.11/htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
    "htmx-ext-ws-2.0.4/ws.min.js": (
        "896afc2936ded7a56373edf16ce75b0fe9bf49c03d1f55aee9baa94cb87c8d3e"
    ),
    "axe-core-4.14.1/axe.min.js": (
        "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
    ),
}
TEMPLATES = VENDOR.parents[3] / "templates"


def test_vendored_files_match_their_pinned_checksums_and_ship_a_licence() -> None:
    for relative, digest in PINNED.items():
        path = VENDOR / relative
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert (path.parent / "LICENSE").is_file()


def test_no_page_loads_axe_core_which_only_the_browser_tests_inject() -> None:
    sources = [*TEMPLATES.rglob("*.html"), *VENDOR.parent.glob("*.js")]
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "axe-core" not in text and "axe.min" not in text, path
