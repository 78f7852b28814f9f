"""What a faster mail parser would give: ``parse_mail`` against its parts and fast-mail-parser.

    python bench/parsers.py [--mails 3000] [--rounds 3]

On the same mails as ``bench/ingest.py`` (bench/mails.py, fixed seed), in this one process,
best of ``--rounds``:

1. ``inbox.mail.parse.parse_mail``, what the desk runs: MIME, headers decoded, addresses,
   HTML sanitised, quotes stripped, limits and defects;
2. the standard library's compat32 ``BytesParser`` alone, the MIME step inside it;
3. fast-mail-parser (Rust, PyPI), pinned in ``FAST_MAIL_PARSER``, in a virtual environment of
   its own under ``bench/.parsers/`` (ignored by git), made the first time. It decodes MIME
   and charsets; it reports no defects, has no limits on parts or depth, does not unwrap
   forwarded mail or read delivery reports, and leaves HTML unsanitised.

Each is printed in mails per second and as a multiple of ``parse_mail``'s rate, with the
share of ``parse_mail`` that the MIME step is, which is the most a faster MIME parser could
take away.
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mails import customer_mails  # noqa: E402
from inbox.mail.parse import parse_mail  # noqa: E402

FAST_MAIL_PARSER = "fast-mail-parser==0.10.0"
VENV = ROOT / "bench" / ".parsers" / "venv"

# Run in fast-mail-parser's own environment: times it on the pickled mails, prints seconds.
FAST_TIMING = """\
import pickle, sys, time
from fast_mail_parser import parse_email
raws = pickle.load(open(sys.argv[1], "rb"))
best = float("inf")
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    for raw in raws:
        parse_email(raw)
    best = min(best, time.perf_counter() - started)
print(best)
"""


def best_of(rounds: int, parse: Callable[[bytes], object], raws: list[bytes]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in raws:
            parse(raw)
        best = min(best, time.perf_counter() - started)
    return best


def fast_mail_parser_seconds(raws: list[bytes], rounds: int) -> float:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", FAST_MAIL_PARSER], check=True)
    with tempfile.NamedTemporaryFile(suffix=".pickle") as mails:
        pickle.dump(raws, mails)
        mails.flush()
        done = subprocess.run(
            [str(python), "-c", FAST_TIMING, mails.name, str(rounds)],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raws = customer_mails(args.mails, to="support@example.test")
    print(f"{len(raws)} mails, {sum(map(len, raws)) / len(raws) / 1024:.1f} KiB on average")

    mime = BytesParser(policy=compat32)
    seconds = {
        "parse_mail (inbox)": best_of(args.rounds, parse_mail, raws),
        "compat32 BytesParser (its MIME step)": best_of(args.rounds, mime.parsebytes, raws),
        f"fast-mail-parser ({FAST_MAIL_PARSER.split('==')[1]})": fast_mail_parser_seconds(
            raws, args.rounds
        ),
    }
    baseline = seconds["parse_mail (inbox)"]
    print(f"\n{'parser':40} {'seconds':>8} {'mails/s':>9} {'x parse_mail':>13}")
    for name, took in seconds.items():
        print(f"{name:40} {took:>8.3f} {len(raws) / took:>9.0f} {baseline / took:>12.1f}x")
    mime_share = seconds["compat32 BytesParser (its MIME step)"] / baseline
    print(f"\nthe MIME step is {mime_share:.0%} of parse_mail's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
