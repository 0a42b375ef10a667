"""C2SP signed notes, checkpoints and tlog-proofs."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hocba.ledger import merkle, note

ORIGIN = "example.com/log"


def _signer(name: str = ORIGIN) -> note.Signer:
    return note.Signer(name, Ed25519PrivateKey.generate())


def test_known_key_id() -> None:
    # Key ID layout of c2sp.org/signed-note: SHA-256(name || "\n" || 0x01 || key)[:4].
    public = bytes(range(32))
    import hashlib

    expected = hashlib.sha256(b"example.com/log\n\x01" + public).digest()[:4]
    assert note.key_id(ORIGIN, public) == expected


def test_checkpoint_signed_and_opened() -> None:
    signer = _signer()
    checkpoint = note.Checkpoint(ORIGIN, 8, merkle.EMPTY_ROOT, ("ext one",))
    signed = signer.sign(checkpoint.text())
    assert signed.startswith(f"{ORIGIN}\n8\n{base64.b64encode(merkle.EMPTY_ROOT).decode()}\n")
    assert "\n\n\u2014 example.com/log " in signed
    verifier = note.Verifier.parse(str(signer.verifier))
    assert note.open_checkpoint(signed, verifier, ORIGIN) == checkpoint


def test_tampered_note_refused() -> None:
    signer = _signer()
    signed = signer.sign(note.Checkpoint(ORIGIN, 8, merkle.EMPTY_ROOT).text())
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(signed.replace("\n8\n", "\n9\n"), signer.verifier)


def test_unknown_signer_refused_and_extra_signatures_ignored() -> None:
    signer, other = _signer(), _signer("witness.example")
    text = note.Checkpoint(ORIGIN, 1, merkle.EMPTY_ROOT).text()
    with pytest.raises(note.NoteError, match="not signed by"):
        note.open_note(other.sign(text), signer.verifier)
    cosigned = signer.sign(text) + other.sign(text).split("\n\n")[1]
    assert note.open_note(cosigned, signer.verifier) == text


def test_bad_verifier_keys() -> None:
    good = str(_signer().verifier)
    name, key_id, key = good.split("+", 2)
    for bad in (f"{name}+{key_id}", f"{name}+00000000+{key}", f"{name}+{key_id}+AAAA"):
        with pytest.raises(note.NoteError):
            note.Verifier.parse(bad)


def test_wrong_origin_and_malformed() -> None:
    signer = _signer()
    signed = signer.sign(note.Checkpoint(ORIGIN, 1, merkle.EMPTY_ROOT).text())
    with pytest.raises(note.NoteError, match="origin"):
        note.open_checkpoint(signed, signer.verifier, "other.example/log")
    with pytest.raises(note.NoteError):
        note.Checkpoint.parse("origin\n01\nAAAA\n")
    with pytest.raises(note.NoteError):
        note.open_note("no signatures\n", signer.verifier)


def test_proof_round_trip() -> None:
    signed = _signer().sign(note.Checkpoint(ORIGIN, 2, merkle.EMPTY_ROOT).text())
    proof = note.TlogProof(1, (merkle.EMPTY_ROOT,), signed, extra=b"hi")
    text = proof.text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra aGk=\nindex 1\n")
    assert note.TlogProof.parse(text) == proof
    bare = note.TlogProof(0, (), signed)
    assert bare.text() == f"c2sp.org/tlog-proof@v1\nindex 0\n\n{signed}"
    assert note.TlogProof.parse(bare.text()) == bare
    with pytest.raises(note.NoteError):
        note.TlogProof.parse("c2sp.org/tlog-proof@v2\nindex 0\n\n" + signed)
