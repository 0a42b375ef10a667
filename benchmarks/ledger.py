"""Benchmark: the transparency log at a million leaves (issue 6 "Done when", ARCHITECTURE §9).

Builds a throwaway SQLite database in a temporary folder (or, with ``--database-url``, a
throwaway PostgreSQL database) and fills the log to ``--leaves`` entries (1,000,000;
``--quick``: 100,000). The fill writes the leaf and node rows directly with
``executemany`` (computed in memory with :class:`hocba.ledger.merkle.MemoryTree`): it is set-up,
not measured. Then, measured on the full log:

* ``appends_per_s_one_transaction``: :func:`hocba.ledger.services.append` called repeatedly in
  one transaction (an issuing run of many records writes like this);
* ``appends_per_s_append_many``: :func:`hocba.ledger.services.append_many` with batches of
  1,000 events, one transaction per batch (bulk logging, e.g. copies of a whole class);
* ``appends_per_s_own_transaction``: each append in its own committed transaction (the
  worst case: one record issued at a time);
* ``inclusion_proof_ms``: median time of :func:`hocba.ledger.services.inclusion_proof` for
  random leaves (two SQL queries each), every proof checked against the root;
* baseline, the same run: ``naive_inclusion_proof_ms`` and ``naive_append_ms``, an in-memory
  tree holding every leaf hash and recomputing subtrees from the leaves on demand (no stored
  nodes): a proof recomputes the whole tree, an append recomputes the root.

Targets: over 5,000 appends a second and under 1 ms per inclusion proof (measured on SQLite;
``--database-url`` runs the same on PostgreSQL). Usage::

    .venv/bin/python benchmarks/ledger.py [--quick] [--leaves N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _setup_django(data_dir: str, database_url: str | None = None) -> str | None:
    """Migrate a fresh database: SQLite in ``data_dir``, or with ``database_url`` a throwaway
    ``<name>_bench_ledger`` database made next to it (dropped by :func:`_teardown`); returns
    the original name to restore."""
    os.environ["HOCBA_DATA_DIR"] = data_dir
    os.environ["HOCBA_TESTING"] = "1"
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    if database_url:
        original = connection.settings_dict["NAME"]
        # Not the test suite's ``test_<name>``: the two may run at the same time.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{original}_bench_ledger"
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        return str(original)
    call_command("migrate", verbosity=0)
    return None


def _teardown(original: str | None) -> None:
    from django.db import connection

    if original is not None:
        connection.creation.destroy_test_db(original, verbosity=0)


def _event(number: int) -> bytes:
    # Already RFC 8785 canonical: sorted keys, no spaces, integers.
    return b'{"n":%d,"type":"copy_issued"}' % number


def _fill(count: int) -> list[bytes]:
    """Write ``count`` leaves and their complete subtrees straight into the tables."""
    from django.db import connection, transaction

    from hocba.ledger import merkle
    from hocba.ledger.models import LogHead

    tree = merkle.MemoryTree([merkle.leaf_hash(_event(n)) for n in range(count)])
    now = dt.datetime.now(dt.UTC).isoformat()
    chunk = 50_000
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, count, chunk):
            cursor.executemany(
                'INSERT INTO ledger_logleaf ("index", leaf_hash, event, event_type, created_at) '
                "VALUES (%s, %s, %s, 'copy_issued', %s)",
                [
                    (n, tree.leaf_hashes[n].hex(), _event(n).decode(), now)
                    for n in range(start, min(count, start + chunk))
                ],
            )
        for level, hashes in enumerate(tree.levels()[1:], start=1):
            cursor.executemany(
                'INSERT INTO ledger_lognode (level, "index", hash) VALUES (%s, %s, %s)',
                [(level, index, value.hex()) for index, value in enumerate(hashes)],
            )
        LogHead.objects.update_or_create(pk=1, defaults={"size": count})
    return tree.leaf_hashes


def _appends(count: int, *, own_transaction: bool, first: int) -> float:
    from django.db import transaction

    from hocba.ledger import services

    started = time.perf_counter()
    if own_transaction:
        for number in range(first, first + count):
            with transaction.atomic():
                services.append("copy_issued", {"n": number, "type": "copy_issued"})
    else:
        with transaction.atomic():
            for number in range(first, first + count):
                services.append("copy_issued", {"n": number, "type": "copy_issued"})
    return count / (time.perf_counter() - started)


def _append_many(count: int, *, first: int, batch: int = 1_000) -> float:
    from django.db import transaction

    from hocba.ledger import services

    started = time.perf_counter()
    for start in range(first, first + count, batch):
        with transaction.atomic():
            services.append_many(
                "copy_issued",
                [{"n": n, "type": "copy_issued"} for n in range(start, start + batch)],
            )
    return count / (time.perf_counter() - started)


def _proofs(size: int, count: int) -> float:
    from hocba.ledger import merkle, services
    from hocba.ledger.models import LogLeaf

    root = services.root_hash(size)
    rng = random.Random(6)  # noqa: S311 — reproducible sample, not security
    timings = []
    for _ in range(count):
        index = rng.randrange(size)
        started = time.perf_counter()
        proof = services.inclusion_proof(index, size)
        timings.append(time.perf_counter() - started)
        leaf = bytes.fromhex(LogLeaf.objects.get(index=index).leaf_hash)
        assert merkle.verify_inclusion(leaf, index, size, proof, root)
    return statistics.median(timings) * 1000


def _naive(leaf_hashes: list[bytes], repetitions: int) -> tuple[float, float]:
    from hocba.ledger import merkle

    tree = merkle.MemoryTree(leaf_hashes)
    size = len(leaf_hashes)
    proof_times, append_times = [], []
    rng = random.Random(6)  # noqa: S311 — reproducible sample, not security
    for number in range(repetitions):
        started = time.perf_counter()
        merkle.inclusion_proof(rng.randrange(size), size, tree.subtree)
        proof_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        tree.append_data(b"naive %d" % number)
        tree.root()
        append_times.append(time.perf_counter() - started)
        tree.leaf_hashes.pop()
    return statistics.median(proof_times) * 1000, statistics.median(append_times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 leaves, fewer repetitions")
    parser.add_argument("--leaves", type=int, default=None)
    parser.add_argument(
        "--database-url",
        default=None,
        help="e.g. postgres://postgres@127.0.0.1:5432/hocba: measure there, in a throwaway "
        "<name>_bench_ledger database created and dropped by the run (default: SQLite in a "
        "temporary folder)",
    )
    args = parser.parse_args()
    leaves = args.leaves or (100_000 if args.quick else 1_000_000)
    appends, proofs, naive_repetitions = (2_000, 300, 3) if args.quick else (5_000, 1_000, 3)
    with tempfile.TemporaryDirectory(prefix="hocba-bench-ledger-") as data_dir:
        original = _setup_django(data_dir, args.database_url)
        started = time.perf_counter()
        leaf_hashes = _fill(leaves)
        fill_s = time.perf_counter() - started
        one_tx = _appends(appends, own_transaction=False, first=leaves)
        own_tx = _appends(appends // 5, own_transaction=True, first=leaves + appends)
        many = _append_many(appends * 5, first=leaves + appends + appends // 5)
        size = leaves + appends + appends // 5 + appends * 5
        proof_ms = _proofs(size, proofs)
        naive_proof_ms, naive_append_ms = _naive(leaf_hashes, naive_repetitions)
        _teardown(original)
    results = {
        "database": "postgresql" if args.database_url else "sqlite",
        "leaves": leaves,
        "fill_s": f"{fill_s:.1f}",
        "appends_per_s_one_transaction": f"{one_tx:.0f}",
        "appends_per_s_own_transaction": f"{own_tx:.0f}",
        "appends_per_s_append_many": f"{many:.0f}",
        "inclusion_proof_ms": f"{proof_ms:.3f}",
        "naive_inclusion_proof_ms": f"{naive_proof_ms:.1f}",
        "naive_append_ms": f"{naive_append_ms:.1f}",
        "naive_appends_per_s": f"{1000 / naive_append_ms:.2f}",
        "append_speedup_vs_naive": f"{one_tx * naive_append_ms / 1000:.0f}",
        "inclusion_proof_speedup_vs_naive": f"{naive_proof_ms / proof_ms:.0f}",
        "appends_vs_target": f"{one_tx / 5000:.2f}",
        "target_appends_per_s": 5000,
        "target_inclusion_proof_ms": 1,
    }
    for key, value in results.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
