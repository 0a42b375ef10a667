"""The public log URLs under so-cai/: a tlog-tiles prefix, checkpoints, key, status list."""

from __future__ import annotations

import gzip

import pytest
from django.test import Client

from hocba.ledger import keys, merkle, services, statuslist, tiles
from hocba.ledger.models import Checkpoint
from hocba.ledger.tests.test_tiles import Fetch, TiledClient, grow

pytestmark = pytest.mark.django_db

PREFIX = "/so-cai/"


def _fetch(client: Client) -> Fetch:
    def fetch(path: str) -> bytes:
        response = client.get(PREFIX + path)
        assert response.status_code == 200, (path, response.content)
        return bytes(response.content)

    return fetch


def test_empty_log_has_no_checkpoint(client: Client) -> None:
    response = client.get(PREFIX + "checkpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "chưa có điểm kiểm tra" in response.content.decode()
    assert client.get(PREFIX + "tile/0/000.p/1").status_code == 404
    assert Checkpoint.objects.count() == 0  # a GET signs nothing


def test_prefix_is_a_tlog_tiles_log(client: Client) -> None:
    grow(300)
    first = services.sign_checkpoint()
    grow(400)  # 700 leaves, checkpoint at 700
    latest = services.sign_checkpoint()

    response = client.get(PREFIX + "checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == latest.note
    assert "max-age=5" in response["Cache-Control"]

    reader = TiledClient(_fetch(client))
    assert reader.size == 700
    reader.check()
    proof = reader.inclusion(650)
    leaf = merkle.leaf_hash(reader.entries[650])
    assert merkle.verify_inclusion(leaf, 650, 700, proof, reader.checkpoint.root_hash)

    tile = client.get(PREFIX + "tile/0/001")
    assert tile["Content-Type"] == "application/octet-stream"
    assert "immutable" in tile["Cache-Control"] and "max-age=31536000" in tile["Cache-Control"]
    assert len(tile.content) == 8192
    # Partial tiles of the older checkpoint stay available.
    assert client.get(PREFIX + "tile/0/001.p/44").content == tiles.tile_bytes(tiles.Tile(0, 1, 44))
    # Beyond the latest checkpoint, or malformed: 404, not cached.
    for path in ["tile/0/002.p/189", "tile/0/003", "tile/1/000.p/3", "tile/entries/002.p/189"]:
        missing = client.get(PREFIX + path)
        assert missing.status_code == 404, path
        assert "no-cache" in missing["Cache-Control"]
    for path in ["tile/0/1", "tile/0/000.p/256", "tile/x/000", "tile/entries/x000/001"]:
        assert client.get(PREFIX + path).status_code == 404, path

    # Entry bundles are gzipped for clients that accept it.
    zipped = client.get(PREFIX + "tile/entries/000", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == tiles.tile_bytes(tiles.Tile(tiles.ENTRIES, 0))

    old = client.get(PREFIX + f"checkpoints/{first.size}")
    assert old.status_code == 200 and old.content.decode() == first.note
    assert "immutable" in old["Cache-Control"]
    assert client.get(PREFIX + "checkpoints/301").status_code == 404


def test_key_and_methods(client: Client) -> None:
    response = client.get(PREFIX + "key")
    assert response.status_code == 200
    assert response.content.decode() == keys.verifier_key() + "\n"
    assert client.post(PREFIX + "key").status_code == 405
    assert client.post(PREFIX + "checkpoint").status_code == 405


def test_status_list_url_on_an_empty_log(client: Client) -> None:
    response = client.get(PREFIX + "status-list")
    assert response.status_code == 200
    opened = statuslist.open_status_list(response.content.decode(), keys.verifier_key())
    assert opened.entries == statuslist.MIN_ENTRIES
    assert opened.status_of(0) == "valid"
    assert "max-age=60" in response["Cache-Control"]
