"""C2SP tlog-tiles: paths, tile contents, the static export and a client that rebuilds the tree
from the tile files alone."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from hocba.ledger import keys, merkle, services, tiles
from hocba.ledger.note import Checkpoint as CheckpointText
from hocba.ledger.note import open_checkpoint
from hocba.ledger.tiles import Tile

Fetch = Callable[[str], bytes]


def grow(count: int) -> None:
    """Append ``count`` synthetic events (no records needed for the tree)."""
    start = services.log_size()
    with transaction.atomic():
        services.append_many(
            "copy_issued", [{"type": "copy_issued", "n": start + i} for i in range(count)]
        )


def _hashes(data: bytes, width: int) -> list[bytes]:
    assert len(data) == width * merkle.HASH_SIZE
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def _up(hashes: list[bytes], levels: int) -> bytes:
    for _ in range(levels):
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    (single,) = hashes
    return single


class TiledClient:
    """What a tlog-tiles client does: fetch the checkpoint, then only the tiles it needs, and
    recompute everything with ``hocba.ledger.merkle``. No database access."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch
        note = fetch("checkpoint").decode()
        self.checkpoint: CheckpointText = open_checkpoint(note, keys.verifier(), keys.origin())
        size = self.size = self.checkpoint.size
        self.levels: list[list[bytes]] = []  # level L: hashes of subtrees of 256**L leaves
        level, count = 0, size
        while count > 0:
            full, partial = divmod(count, tiles.TILE_WIDTH)
            row: list[bytes] = []
            for n in range(full):
                row += _hashes(fetch(Tile(level, n).path), tiles.TILE_WIDTH)
            if partial:
                row += _hashes(fetch(Tile(level, full, partial).path), partial)
            self.levels.append(row)
            level, count = level + 1, count >> tiles.TILE_HEIGHT
        self.entries: list[bytes] = []
        full, partial = divmod(size, tiles.TILE_WIDTH)
        for n in range(full):
            self.entries += tiles.split_entry_bundle(fetch(Tile(tiles.ENTRIES, n).path))
        if partial:
            self.entries += tiles.split_entry_bundle(fetch(Tile(tiles.ENTRIES, full, partial).path))

    def subtree(self, level: int, index: int) -> bytes:
        tile_level, rest = divmod(level, tiles.TILE_HEIGHT)
        row = self.levels[tile_level]
        return _up(row[index << rest : (index + 1) << rest], rest)

    def check(self) -> None:
        """Entries hash to level 0, each upper tile hash is its full tile below, root matches."""
        assert len(self.entries) == self.size
        assert [merkle.leaf_hash(e) for e in self.entries] == self.levels[0]
        for level in range(1, len(self.levels)):
            below = self.levels[level - 1]
            for i, value in enumerate(self.levels[level]):
                assert value == _up(below[i * 256 : (i + 1) * 256], tiles.TILE_HEIGHT)
        assert merkle.root_hash(self.size, self.subtree) == self.checkpoint.root_hash

    def inclusion(self, index: int) -> list[bytes]:
        return merkle.inclusion_proof(index, self.size, self.subtree)


def folder_fetch(folder: Path) -> Fetch:
    return lambda path: (folder / path).read_bytes()


def test_index_paths() -> None:
    assert tiles.encode_index(0) == "000"
    assert tiles.encode_index(7) == "007"
    assert tiles.encode_index(1000) == "x001/000"
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert Tile(0, 1234067, 8).path == "tile/0/x001/x234/067.p/8"
    assert Tile(tiles.ENTRIES, 3).path == "tile/entries/003"
    for tile in [Tile(0, 0), Tile(2, 1234067, 8), Tile(tiles.ENTRIES, 1000, 255), Tile(63, 5)]:
        assert tiles.parse_tile_path(tile.path.removeprefix("tile/")) == tile
    for bad in [
        "0/1",
        "0/0000",
        "0/x000/001",
        "0/001/002",
        "0/000.p/256",
        "0/000.p/0",
        "0/000.p/007",
        "01/000",
        "64/000",
        "data/000",
        "0/000/",
    ]:
        with pytest.raises(ValueError):
            tiles.parse_tile_path(bad)


def test_tiles_for_size_follows_the_spec_examples() -> None:
    def summary(size: int) -> dict[int | str, tuple[int, list[int]]]:
        found: dict[int | str, tuple[int, list[int]]] = {}
        for tile in tiles.tiles_for_size(size):
            full, partial = found.get(tile.level, (0, []))
            found[tile.level] = (full + 1, partial) if tile.full else (full, [*partial, tile.width])
        return found

    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1"
    assert summary(70_000) == {
        0: (273, [112]),
        tiles.ENTRIES: (273, [112]),
        1: (1, [17]),
        2: (0, [1]),
    }
    assert summary(256) == {0: (1, []), tiles.ENTRIES: (1, []), 1: (0, [1])}
    assert tiles.tiles_for_size(0) == []


@pytest.mark.django_db
def test_tile_bytes_from_the_database() -> None:
    grow(300)
    leaves = [
        merkle.leaf_hash(services.canonical_event({"type": "copy_issued", "n": i}))
        for i in range(300)
    ]
    assert tiles.tile_bytes(Tile(0, 0)) == b"".join(leaves[:256])
    assert tiles.tile_bytes(Tile(0, 1, 44)) == b"".join(leaves[256:])
    assert tiles.tile_bytes(Tile(1, 0, 1)) == services.root_hash(256)
    bundle = tiles.tile_bytes(Tile(tiles.ENTRIES, 1, 2))
    assert bundle[:2] == len(b'{"n":256,"type":"copy_issued"}').to_bytes(2, "big")
    assert tiles.split_entry_bundle(bundle) == [
        b'{"n":256,"type":"copy_issued"}',
        b'{"n":257,"type":"copy_issued"}',
    ]
    with pytest.raises(LookupError):
        tiles.tile_bytes(Tile(0, 1, 45))
    assert tiles.within(Tile(0, 1, 44), 300)
    assert not tiles.within(Tile(0, 1, 45), 300)
    assert not tiles.within(Tile(1, 0, 2), 300)


@pytest.mark.django_db
def test_export_rebuilds_the_tree_and_keeps_full_tiles(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    grow(600)
    services.sign_checkpoint()
    first = tiles.export_tiles(folder)
    assert first.size == 600 and first.kept == []
    assert first.written[-1] == "checkpoint"
    assert "tile/0/002.p/88" in first.written
    assert "tile/1/000.p/2" in first.written
    client = TiledClient(folder_fetch(folder))
    client.check()
    for index in (0, 255, 256, 511, 599):
        proof = client.inclusion(index)
        assert proof == services.inclusion_proof(index, 600)
        leaf = merkle.leaf_hash(client.entries[index])
        assert merkle.verify_inclusion(leaf, index, 600, proof, client.checkpoint.root_hash)
    assert not any(p.name.startswith(".tmp-") for p in folder.rglob("*"))

    full = ["tile/0/000", "tile/0/001", "tile/entries/000", "tile/entries/001"]
    before = {path: ((folder / path).read_bytes(), (folder / path).stat().st_ino) for path in full}
    grow(200)  # 800 leaves: tile 0/002 becomes full
    services.sign_checkpoint()
    second = tiles.export_tiles(folder)
    assert set(full) <= set(second.kept)
    assert "tile/0/002" in second.written and "tile/0/003.p/32" in second.written
    for path, (data, inode) in before.items():
        assert (folder / path).read_bytes() == data
        assert (folder / path).stat().st_ino == inode  # not rewritten
    grown = TiledClient(folder_fetch(folder))
    assert grown.size == 800
    grown.check()
    assert grown.levels[0][:600] == client.levels[0]
    # The old partial tiles stay: a client holding the 600 checkpoint can still use them.
    assert (folder / "tile/0/002.p/88").read_bytes() == tiles.tile_bytes(Tile(0, 2, 88))


@pytest.mark.django_db
def test_export_needs_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        tiles.export_tiles(tmp_path)


@pytest.mark.django_db
def test_ledger_tiles_command(tmp_path: Path) -> None:
    grow(5)
    out = io.StringIO()
    call_command("ledger", "tiles", str(tmp_path), stdout=out)
    text = out.getvalue()
    assert "Đã ghi tile/0/000.p/5" in text
    assert "Đã ghi checkpoint" in text
    assert "Đã xuất sổ cái 5 lá" in text
    TiledClient(folder_fetch(tmp_path)).check()
    grow(1)
    out = io.StringIO()
    call_command("ledger", "tiles", str(tmp_path), stdout=out)
    assert "Đã ghi tile/0/000.p/6" in out.getvalue()
    assert TiledClient(folder_fetch(tmp_path)).size == 6
