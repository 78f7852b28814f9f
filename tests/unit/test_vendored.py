import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "inbox" / "web" / "static" / "vendor"
PINNED = {
    "htmx-2.0.11/htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
    "htmx-ext-ws-2.0.4/ws.min.js": (
        "896afc2936ded7a56373edf16ce75b0fe9bf49c03d1f55aee9baa94cb87c8d3e"
    ),
}


def test_vendored_files_match_their_pinned_checksums_and_ship_a_licence() -> None:
    for relative, digest in PINNED.items():
        path = VENDOR / relative
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert (path.parent / "LICENSE").is_file()
