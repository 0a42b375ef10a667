"""The log in the database: appends, stored nodes, checkpoints, proofs, append-only guards."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from hocba.ledger import keys, merkle, services
from hocba.ledger.models import Checkpoint, LogLeaf, LogNode
from hocba.ledger.note import open_checkpoint

pytestmark = pytest.mark.django_db


def _append(count: int) -> list[LogLeaf]:
    leaves = []
    with transaction.atomic():
        for number in range(count):
            leaves.append(services.append("copy_issued", {"type": "copy_issued", "n": number}))
    return leaves


def test_append_matches_in_memory_tree() -> None:
    leaves = _append(13)
    reference = merkle.MemoryTree([bytes.fromhex(leaf.leaf_hash) for leaf in leaves])
    assert [leaf.index for leaf in leaves] == list(range(13))
    assert leaves[0].event == '{"n":0,"type":"copy_issued"}'
    assert leaves[0].leaf_hash == merkle.leaf_hash(leaves[0].event.encode()).hex()
    for size in range(14):
        assert services.root_hash(size) == reference.root(size)
    # Complete subtrees of 13 leaves: 6 of level 1, 3 of level 2, 1 of level 3.
    assert LogNode.objects.count() == 10


def test_checkpoint_signed_and_reused(log_key: Path) -> None:
    _append(5)
    first = services.sign_checkpoint()
    assert services.sign_checkpoint() == first
    assert stat.S_IMODE(log_key.stat().st_mode) == 0o600
    checkpoint = open_checkpoint(first.note, keys.verifier(), "test.hocba.local/log")
    assert checkpoint.size == 5
    assert checkpoint.root_hash.hex() == first.root_hash
    _append(1)
    assert services.sign_checkpoint().size == 6
    assert Checkpoint.objects.count() == 2


def test_inclusion_bundles_verify_offline() -> None:
    leaves = _append(11)
    services.sign_checkpoint()
    public = keys.verifier_key()
    assert public.startswith("test.hocba.local/log+")
    for leaf in leaves:
        bundle = services.inclusion_bundle(leaf)
        assert bundle.startswith(f"c2sp.org/tlog-proof@v1\nindex {leaf.index}\n")
        assert services.verify_bundle(bundle, public, leaf.leaf_hash)
        assert not services.verify_bundle(bundle, public, merkle.leaf_hash(b"other"))
    other_key = "other.example/log+" + public.split("+", 1)[1]
    assert not services.verify_bundle(bundle, other_key, leaves[-1].leaf_hash)


def test_consistency_between_checkpoints() -> None:
    _append(3)
    old = services.sign_checkpoint()
    _append(6)
    new = services.sign_checkpoint()
    proof = services.consistency_proof(old.size, new.size)
    assert merkle.verify_consistency(
        old.size, new.size, proof, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash)
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_logleaf SET leaf_hash = 'x'",
        "DELETE FROM ledger_logleaf",
        "UPDATE ledger_lognode SET hash = 'x'",
        "DELETE FROM ledger_lognode",
        "UPDATE ledger_checkpoint SET size = 99",
        "DELETE FROM ledger_checkpoint",
    ],
)
def test_raw_sql_change_refused(statement: str) -> None:
    _append(2)
    services.sign_checkpoint()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert LogLeaf.objects.count() == 2
    assert LogNode.objects.count() == 1
    assert Checkpoint.objects.count() == 1


def test_append_many_builds_the_same_tree() -> None:
    _append(5)
    with transaction.atomic():
        first = services.append_many("copy_issued", [{"n": n} for n in range(5, 23)])
        services.append("copy_issued", {"n": 23})
    assert first == 5
    events = [{"type": "copy_issued", "n": n} for n in range(5)] + [{"n": n} for n in range(5, 24)]
    reference = merkle.MemoryTree(
        [merkle.leaf_hash(services.canonical_event(event)) for event in events]
    )
    assert services.root_hash(24) == reference.root()
    assert LogNode.objects.count() == sum(len(level) for level in reference.levels()[1:])
