import hashlib
import re
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
    **{
        f"lucide-static-1.87.0/icons/{name}": digest
        for name, digest in {
            "arrow-left.svg": "fc4e263be3f2a5f19da148e2effb1a64f692ff2f04368704423e2d91247c106c",
            "at-sign.svg": "04a17c0981e50fa93c1480324c9aefc9784ab6f3f3a6606715069a531b45020c",
            "camera.svg": "61edcbe7d9a217d109364e2aa83fd7a87bd03426f2980233dd94fa1a664ab879",
            "clock.svg": "3a43d6d1ae02c6816dc02b85357203ddf81edef91bf5bc49b47ad4191434313d",
            "external-link.svg": "ca983c48b5015123963a7a87ff23c1f530a041be8e336bfc75870c8e225e04b2",
            "inbox.svg": "48ecb300d9078b66feff0a00e5044934f741d1e8e0b6a32140ee76c6ccb01aec",
            "mail.svg": "94d75526f66090f02283640e58d23b483b123b5c61e9ca9b58918e8d9c3cf2ef",
            "message-circle.svg": (
                "8491f7e64ed71a5f93ec8f3437cc1d461771cda539efad31b0cb6b355b68d71f"
            ),
            "message-square.svg": (
                "9dd5e25fbca7af82009e8115678588448d187b9a52102f2eb6f50a9f65da9f2e"
            ),
            "phone.svg": "134cf8cfe5ab9680cd826817d72adee32c0bd434cef4597cb83cff32abf3a0f3",
            "send.svg": "863b432420f2c5867c26564143a2c8e13dbbd267a45fe11b3db5f36eac02b059",
            "download.svg": "74316f9771e2ce6956bf1869b2f28446c6954cb6f13f7d5881a10f03a22b0c2b",
            "bell.svg": "0b8d0e8af5c81fbc30dce85b6677f28c6f875aea8cfcd2e6dce21de85727bf3f",
            "log-out.svg": "e30d64219e113daf3afe86fe1f93d69b66e0345e655aa2dc230dc7e29788f34d",
            "settings.svg": "ea7af4ac328c93901a31ce90a92f2df85419de43579f16282aa2b69530ab2c6a",
            "chart-column.svg": "67aa6babdcfc901f05ab7f9cd1167cd569a5dcb2aecf046dd59374073a98eec5",
            "phone-call.svg": "56af08dbc7ed62f3bb1c996ad11944002e17c6ad61b12b4221a9d6071a4d33f2",
            "triangle-alert.svg": (
                "5cbee4c94f6dabcdf75ae9f6e46faccb3f4546093a98b7f3678a96dd533ad83e"
            ),
        }.items()
    },
}
TEMPLATES = VENDOR.parents[3] / "templates"


def test_vendored_files_match_their_pinned_checksums_and_ship_a_licence() -> None:
    for relative, digest in PINNED.items():
        path = VENDOR / relative
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert (VENDOR / relative.split("/")[0] / "LICENSE").is_file()


def test_no_page_loads_axe_core_which_only_the_browser_tests_inject() -> None:
    sources = [*TEMPLATES.rglob("*.html"), *VENDOR.parent.glob("*.js")]
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "axe-core" not in text and "axe.min" not in text, path


def test_only_the_icons_the_stylesheet_draws_are_shipped() -> None:
    css = (VENDOR.parent / "app.css").read_text()
    drawn = set(re.findall(r"url\(/static/vendor/(lucide-static-[^)]+\.svg)\)", css))
    shipped = {str(path.relative_to(VENDOR)) for path in VENDOR.glob("lucide-static-*/icons/*.svg")}
    assert drawn == shipped == {name for name in PINNED if name.startswith("lucide-static-")}
