"""Signed WhatsApp webhooks into ``inbox serve`` on the embedded default: how fast the webhook
accepts an event, and how fast the desk files what it accepted.

    python bench/social.py [--events 5000] [--clients 4] [--customers 1000]

A fresh data folder, a WhatsApp channel added with the real ``inbox channel add-whatsapp``,
then the real ``inbox serve`` (SQLite, its workers in the same process). ``--clients`` threads
post ``--events`` webhook bodies, each one customer's message signed with the app secret as
Meta signs it (``X-Hub-Signature-256`` over the bytes sent, non-ASCII escaped), from
``--customers`` different numbers; each thread keeps its connection, as Meta does. The script
prints the acceptance latency (request sent to answer read) at p50 and p99, the rate of
acceptance, and the filing rate: events filed per second from the first post until the last
event is a message on its ticket. Targets: p99 acceptance under 20 ms, at least 1,000 events
filed per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import INBOX, free_port  # noqa: E402
from tests.support.social_platforms import signed_webhook, whatsapp_message  # noqa: E402

SECRET = "bench-app-secret"
PHONE_ID = "106540352242922"
TARGET_P99_MS = 20.0
TARGET_FILED_PER_SECOND = 1000.0


def _serve(workdir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    data = workdir / "var"
    env = {
        **os.environ,
        "INBOX_DATA_DIR": str(data),
        "INBOX_SECRET_KEY": "bench-secret-key-bench-secret-key",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["INBOX_BASE_URL"] = base
    subprocess.run([*INBOX, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*INBOX, "channel", "add-whatsapp", "--name", "WhatsApp", "--phone-number-id", PHONE_ID,
         "--token", "-", "--app-secret", "-", "--verify-token", "-",
         "--graph-url", "http://127.0.0.1:9"],
        env=env, input=f"token\n{SECRET}\nverify\n".encode(), check=True, capture_output=True,
    )  # fmt: skip
    log = (workdir / "serve.log").open("ab")
    process = subprocess.Popen(
        [*INBOX, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base, data / "inbox.sqlite3"
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"inbox serve did not start:\n{(workdir / 'serve.log').read_text()[-3000:]}")


def _bodies(events: int, customers: int) -> list[tuple[bytes, dict[str, str]]]:
    bodies = []
    for n in range(events):
        number = f"3460{n % customers:07d}"
        text = f"Olá, ¿dónde está mi pago? Pedido {n}"
        body = whatsapp_message(PHONE_ID, number, f"wamid.BENCH{n:06d}", text, name=f"Cliente {n}")
        bodies.append(signed_webhook(body, SECRET))
    return bodies


def _post_all(
    base: str, bodies: list[tuple[bytes, dict[str, str]]], clients: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[int] = []

    def work(share: list[tuple[bytes, dict[str, str]]]) -> None:
        mine = []
        with httpx.Client(base_url=base, timeout=30) as client:
            for raw, headers in share:
                started = time.perf_counter()
                status = client.post("/webhooks/meta", content=raw, headers=headers).status_code
                mine.append(time.perf_counter() - started)
                if status != 200:
                    failures.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(bodies[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} posts refused: {sorted(set(failures))}")
    return latencies, started


def _filed(database: Path) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            connection.execute(
                "SELECT count(*) FROM message WHERE channel_kind = 'whatsapp'"
            ).fetchone()[0]
        )
    finally:
        connection.close()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of ``inbox serve`` and of its parser processes."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    total = 0.0
    for each in [pid, *(int(line) for line in found.stdout.split())]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-social-"))
    bodies = _bodies(args.events, args.customers)
    process, base, database = _serve(workdir)
    try:
        cpu_before = _cpu_seconds(process.pid)
        latencies, started = _post_all(base, bodies, args.clients)
        accepted = time.perf_counter() - started
        while (filed := _filed(database)) < args.events:
            if time.perf_counter() - started > 600:
                raise SystemExit(f"only {filed} of {args.events} filed after 10 minutes")
            time.sleep(0.05)
        done = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(timeout=30)
    p50, p99 = (_percentile(latencies, q) * 1000 for q in (0.50, 0.99))
    rate = args.events / done
    print(f"events: {args.events} from {args.customers} customers, {args.clients} clients")
    mean = statistics.mean(latencies) * 1000
    print(f"acceptance: p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean {mean:.1f} ms; "
          f"{args.events / accepted:.0f} accepted/s")  # fmt: skip
    print(f"filing: all {args.events} messages after {done:.1f} s: {rate:.0f} events filed/s; "
          f"the last {done - accepted:.1f} s after the last acceptance")  # fmt: skip
    print(f"CPU of inbox serve and its parser processes: {cpu:.1f} s, "
          f"{args.events / cpu:.0f} events accepted and filed per CPU second; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    target_rate = TARGET_FILED_PER_SECOND
    print(f"ratio to target: p99 {p99 / TARGET_P99_MS:.2f} of {TARGET_P99_MS:.0f} ms; "
          f"filing {rate / target_rate:.2f} of {target_rate:.0f}/s")  # fmt: skip
    print(
        json.dumps({"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "filed_per_s": round(rate)})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
