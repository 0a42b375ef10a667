"""Benchmark: the public verification look-ups under load (issue 8 §4), from a second process.

Builds its own data (the demo world and one class of Dịch Vọng A compiled, signed three times and
issued into the log, 30 records, in a throwaway SQLite database or, with
``--database-url``, a PostgreSQL database it creates and drops), starts ``hocba serve``
(gunicorn, DEBUG off, production settings, rate limits raised so that the load is not refused)
on a free loopback port, waits for ``/readyz``, then loads it from other processes.
Every request asks for one of the issued codes picked at random:

* the status page ``/xac-thuc/<code>`` (HTML, masked), key prefix ``page_``;
* the API ``GET /api/v1/verify/<code>`` (JSON, masked), key prefix ``api_``;
* baseline ``/healthz`` of the same server (no database, no template), key prefix ``healthz_``.

Each target is measured twice, each request on a new connection (as a reverse proxy such as nginx
talks to gunicorn, whose default sync workers close the connection after every answer):

* paced: an open-loop client in a process of its own (asyncio) sends ``--rate`` requests per
  second (200, the issue's target) for ``--duration`` seconds (60; ``--quick``: 10), request i at
  start + i / rate whatever the earlier answers; latency runs from the request's slot to the end
  of its answer, so queueing anywhere counts (no coordinated omission). It reports the achieved
  rate, the median and p99 latency and the errors (non-2xx answers, socket errors, timeouts);
  ``*_late`` counts requests the client itself sent more than 2 ms late (an overloaded client);
* unpaced: wrk with ``--max-connections`` connections (8) for ``--max-duration`` seconds (30;
  ``--quick``: 10): the most requests per second. wrk cannot pace (its Lua ``delay()`` runs after
  connecting, so a paced connection would sit idle on a sync worker, and it times a request from
  when it is written, which hides queueing), hence the separate paced client.

Ratios against ``/healthz`` show what the look-up itself costs.

Targets (issue 8): zero errors and p99 under 100 ms at 200 requests per second. Usage::

    .venv/bin/python benchmarks/lookup_load.py [--quick] [--database-url postgres://…/name]
        [--workers 2] [--threads 1] [--conn-max-age 0] [--profile FILE]

Needs wrk (``apt-get install -y wrk`` on Debian/Ubuntu, ``brew install wrk`` on macOS).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_P99_MS = 100.0
TARGET_RATE = 200
# Far above any load here, so that the limiter still counts every hit (its cost is measured)
# but never refuses one.
RATE_LIMITS = "verify_page=100000000/60,api_anonymous=100000000/60"
LATE_MS = 2  # a request written this much after its slot counts as late


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- Data --------------------------------------------------------------------------------------


def _postgres_admin_url(url: str) -> tuple[str, str]:
    """The maintenance database's address on the same server, and the database's name."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database, e.g. …:5432/hocba_loadhelper")
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), name


def _postgres(url: str, *, create: bool) -> None:
    """Create the benchmark's database afresh (dropping a left-over one), or drop it."""
    import psycopg
    from psycopg import sql

    admin, name = _postgres_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(data_dir: str, database_url: str | None) -> None:
    os.environ["HOCBA_DATA_DIR"] = data_dir
    os.environ["HOCBA_TESTING"] = "1"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def _issued_codes() -> list[str]:
    """One class issued for real (as benchmarks/verify.py does); the codes of its records."""
    from verify import _issued_class

    return [record.short_code for record in _issued_class()]


# --- Server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn's master and its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _start_server(
    folder: str, database_url: str | None, workers: int, threads: int, conn_max_age: int
) -> Server:
    hocba = Path(sys.executable).parent / "hocba"
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"HOCBA_TESTING", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "HOCBA_DATA_DIR": folder,
        "HOCBA_RATE_LIMITS": RATE_LIMITS,
        "DB_CONN_MAX_AGE": str(conn_max_age),
        "LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    log = Path(folder) / "server.log"
    command = [str(hocba), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 — our own entry point
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"hocba serve stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.base}/readyz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"hocba serve never became ready:\n{log.read_text()}")


def _drain(server: Server, seconds: float = 120) -> None:
    """Wait until the server answers ``/healthz`` promptly again: after an overload its sync
    workers still serve the queued requests the client gave up on, which would slow the next
    run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=2):  # noqa: S310
                if time.perf_counter() - started < 0.05:
                    return
        except OSError:
            pass
        time.sleep(0.5)


def _check_answers(server: Server, code: str) -> None:
    """Never time a broken page: one page and one API answer, read and checked."""
    with urllib.request.urlopen(f"{server.base}/xac-thuc/{code}", timeout=10) as answer:  # noqa: S310
        page = answer.read().decode()
    assert answer.status == 200 and code in page, page[:500]
    with urllib.request.urlopen(f"{server.base}/api/v1/verify/{code}", timeout=10) as answer:  # noqa: S310
        data = json.loads(answer.read())
    assert data["state"] == "valid" and data["short_code"] == code, data


# --- Load --------------------------------------------------------------------------------------

LUA = """
-- generated by benchmarks/lookup_load.py: a random issued code per request, a new connection
-- per request (as a reverse proxy talks to gunicorn), figures printed as one JSON line.
paths = {
%(paths)s
}
wrk.headers["Connection"] = "close"
local threads = {}
local numbered = 0

function setup(thread)
  numbered = numbered + 1
  thread:set("thread_number", numbered)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(thread_number * 7919 + os.time())
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "HOCBA_RESULT {\\"duration_us\\": %%d, \\"requests\\": %%d, \\"connect\\": %%d, " ..
    "\\"read\\": %%d, \\"write\\": %%d, \\"status\\": %%d, \\"timeout\\": %%d, " ..
    "\\"p50_us\\": %%d, \\"p99_us\\": %%d, \\"max_us\\": %%d}\\n",
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua(paths: list[str]) -> str:
    return LUA % {"paths": ",\n".join(f'  "{path}"' for path in paths)}


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    late: int = 0  # paced: requests the client itself sent more than LATE_MS after their slot

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def _wrk(wrk: str, base: str, script: Path, *, seconds: int, connections: int) -> Run:
    """Unpaced: ``connections`` connections send as fast as the server answers."""
    command = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "-s", str(script), base]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    line = next((x for x in done.stdout.splitlines() if x.startswith("HOCBA_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data: dict[str, int] = json.loads(line.removeprefix("HOCBA_RESULT "))
    # wrk counts answers over 399 as errors; a redirect (3xx) cannot happen here, the answers
    # were checked first.
    return Run(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        requests=data["requests"],
        non_2xx=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )


# --- Paced client (a process of its own) -------------------------------------------------------


async def _open_loop(base: str, paths: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Send request i at start + i / rate whatever the answers (open loop: a slow answer never
    delays the next request), each on a new connection; latency from the request's slot to the
    end of its answer, so queueing anywhere counts (no coordinated omission)."""
    import asyncio
    import random
    import resource

    # One connection per request in flight: an overloaded server can need thousands.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    failures: dict[str, int] = {}
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0, "late": 0}

    async def one(slot: float, path: str) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            answer = await asyncio.wait_for(reader.read(), 10)  # until the server closes
            writer.close()
        except (OSError, TimeoutError) as error:
            counts["socket_errors"] += 1
            failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
            return
        latencies.append(loop.time() - slot)
        if not answer.startswith(b"HTTP/1.1 2"):
            counts["non_2xx"] += 1

    total = int(rate * seconds)
    start = loop.time() + 0.1
    tasks = []
    for number in range(total):
        slot = start + number / rate
        wait = slot - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        elif -wait > LATE_MS / 1000:
            counts["late"] += 1
        tasks.append(asyncio.create_task(one(slot, random.choice(paths))))  # noqa: S311
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    latencies.sort()
    if failures:
        print(f"paced client: failed requests {failures}", file=sys.stderr)

    def pick(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "requests": len(latencies),
        **counts,
    }


def _paced(base: str, paths_file: Path, rate: int, seconds: int) -> Run:
    command = [sys.executable, __file__, "--client", base, str(paths_file), str(rate), str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"the paced client failed:\n{done.stdout}\n{done.stderr}")
    if done.stderr:
        _progress(done.stderr.strip())
    run = Run(**json.loads(done.stdout))
    _progress(
        f"  {run.rps:.1f}/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, errors {run.errors}"
    )
    return run


def _client_main(base: str, paths_file: str, rate: str, seconds: str) -> None:
    import asyncio

    paths = json.loads(Path(paths_file).read_text())
    print(json.dumps(asyncio.run(_open_loop(base, paths, float(rate), float(seconds)))))


# --- Profile -----------------------------------------------------------------------------------


def _profile(codes: list[str], path: str, count: int) -> None:
    """cProfile of the page and the API served in this process (Django's test client, same
    middleware and settings, rate limits raised), ``count`` requests each."""
    import cProfile
    import pstats
    import random

    from django.conf import settings
    from django.test import Client

    settings.HOCBA_RATE_LIMITS = {"verify_page": (10**8, 60), "api_anonymous": (10**8, 60)}
    client = Client(HTTP_HOST="127.0.0.1")
    targets = {"page": "/xac-thuc/{}", "api": "/api/v1/verify/{}"}
    for name, pattern in targets.items():
        for code in codes[:3]:  # warm: templates, URL resolvers, translations
            assert client.get(pattern.format(code)).status_code == 200
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            client.get(pattern.format(random.choice(codes)))  # noqa: S311
        profiler.disable()
        out = f"{path}.{name}.prof"
        profiler.dump_stats(out)
        _progress(f"--- profile of {count} {name} requests ({out}) ---")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


# --- Main --------------------------------------------------------------------------------------


def _row(name: str, paced: Run, peak: Run) -> str:
    return (
        f"{name:<8} {paced.rps:>8.1f} {paced.p50_ms:>8.2f} {paced.p99_ms:>8.2f} "
        f"{paced.max_ms:>8.1f} {paced.errors:>7d} {paced.late:>5d} {peak.rps:>9.1f} "
        f"{peak.p50_ms:>8.2f} {peak.p99_ms:>8.2f} {peak.errors:>7d}"
    )


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--client":
        _client_main(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL database to create, use and drop")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE of the server")
    parser.add_argument("--rate", type=int, default=TARGET_RATE, help="paced requests per second")
    parser.add_argument("--duration", type=int, help="seconds per paced run (60; quick 10)")
    parser.add_argument("--max-duration", type=int, help="seconds per unpaced run (30; quick 10)")
    parser.add_argument("--max-connections", type=int, default=8, help="unpaced connections")
    parser.add_argument("--profile", metavar="FILE", help="also write cProfiles FILE.page.prof …")
    args = parser.parse_args()
    duration = args.duration or (10 if args.quick else 60)
    max_duration = args.max_duration or (10 if args.quick else 30)

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), "
            "brew install wrk (macOS), or build it from https://github.com/wg/wrk."
        )
    if args.database_url:
        _postgres(args.database_url, create=True)
    import logging

    logging.disable(logging.WARNING)  # pyHanko's soft-fail notices while signing
    try:
        with tempfile.TemporaryDirectory(prefix="hocba-bench-lookup-") as folder:
            _setup_django(folder, args.database_url)
            from django.db import connection, connections

            database = connection.vendor
            _progress(f"seeding the demo world and issuing one class ({database}, a minute) …")
            started = time.perf_counter()
            codes = _issued_codes()
            seed_seconds = time.perf_counter() - started
            if args.profile:
                _profile(codes, args.profile, 100 if args.quick else 500)
            connections.close_all()
            _progress(f"{len(codes)} records issued in {seed_seconds:.0f} s; starting the server …")
            server = _start_server(
                folder, args.database_url, args.workers, args.threads, args.conn_max_age
            )
            try:
                _check_answers(server, codes[0])
                targets = {
                    "healthz": ["/healthz"],
                    "page": [f"/xac-thuc/{code}" for code in codes],
                    "api": [f"/api/v1/verify/{code}" for code in codes],
                }
                scripts, lists = {}, {}
                for name, paths in targets.items():
                    scripts[name] = Path(folder) / f"{name}.lua"
                    scripts[name].write_text(_lua(paths))
                    lists[name] = Path(folder) / f"{name}.json"
                    lists[name].write_text(json.dumps(paths))
                load_before = os.getloadavg()
                for name in targets:  # warm every worker: imports, templates, connections
                    _wrk(wrk, server.base, scripts[name], seconds=2, connections=4)
                paced: dict[str, Run] = {}
                peak: dict[str, Run] = {}
                for name in targets:
                    _progress(f"{name}: {args.rate}/s for {duration} s …")
                    paced[name] = _paced(server.base, lists[name], args.rate, duration)
                    _drain(server)
                for name in targets:
                    _progress(f"{name}: unpaced, {args.max_connections} connections …")
                    peak[name] = _wrk(
                        wrk,
                        server.base,
                        scripts[name],
                        seconds=max_duration,
                        connections=args.max_connections,
                    )
                    _drain(server)
                load_after = os.getloadavg()
            finally:
                server.stop()
    finally:
        if args.database_url:
            _postgres(args.database_url, create=False)

    met = all(
        paced[name].errors == 0
        and paced[name].p99_ms < TARGET_P99_MS
        and paced[name].rps >= 0.97 * args.rate
        for name in ("page", "api")
    )
    print()
    print(
        f"hocba serve --workers {args.workers} --threads {args.threads} on {database}; "
        f"{len(codes)} issued records looked up at random; paced {duration} s, "
        f"unpaced {max_duration} s with {args.max_connections} connections; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print(
        f"{'':<8} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'late':>5}"
        f" {'max rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    print(f"{'':<8} {'paced at ' + str(args.rate) + '/s':-^48} {'unpaced':-^35}")
    for name in targets:
        print(_row(name, paced[name], peak[name]))
    print()
    figures: dict[str, Any] = {"database": database, "records": len(codes)}
    figures |= {"workers": args.workers, "threads": args.threads, "target_rate": args.rate}
    for name in targets:
        run, top = paced[name], peak[name]
        figures |= {
            f"{name}_rps": round(run.rps, 1),
            f"{name}_p50_ms": round(run.p50_ms, 2),
            f"{name}_p99_ms": round(run.p99_ms, 2),
            f"{name}_max_ms": round(run.max_ms, 1),
            f"{name}_errors": run.errors,
            f"{name}_late": run.late,
            f"{name}_max_rps": round(top.rps, 1),
            f"{name}_max_p99_ms": round(top.p99_ms, 2),
            f"{name}_max_errors": top.errors,
        }
    for name in ("page", "api"):
        figures[f"ratio_{name}_p99_vs_healthz"] = round(
            paced[name].p99_ms / paced["healthz"].p99_ms, 1
        )
        figures[f"ratio_{name}_max_rps_vs_healthz"] = round(peak[name].rps / peak["healthz"].rps, 3)
    figures |= {
        "load_before": round(load_before[0], 2),
        "load_after": round(load_after[0], 2),
        "seed_seconds": round(seed_seconds, 1),
        "target_met": met,
    }
    for key, value in figures.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
