"""C2SP signed notes with Ed25519 keys, tlog-checkpoints and tlog-proofs (no Django).

Formats: https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint and
https://c2sp.org/tlog-proof (``c2sp.org/tlog-proof@v1``: header, optional ``extra`` line,
``index N``, the inclusion proof hashes in base64 one per line, a blank line, the signed
checkpoint).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class NoteError(ValueError):
    """A note, checkpoint or proof that is malformed or not signed by the expected key."""


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise NoteError(f"invalid base64: {text!r}") from error


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise NoteError(f"malformed verifier key: {vkey!r}")
        encoded = _b64decode(parts[2])
        if len(encoded) != 33 or encoded[:1] != ED25519_TYPE:
            raise NoteError("verifier key is not an Ed25519 key")
        if key_id(parts[0], encoded[1:]).hex() != parts[1].lower():
            raise NoteError("verifier key ID does not match its name and key")
        return cls(
            parts[0], bytes.fromhex(parts[1]), Ed25519PublicKey.from_public_bytes(encoded[1:])
        )

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519_TYPE + public_bytes(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise NoteError(f"invalid key name: {self.name!r}")

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        return Verifier(self.name, key_id(self.name, public_bytes(public)), public)

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (ending in a newline), a blank line, one signature line."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("note text must end in a newline and contain no blank line")
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if ``verifier`` signed it; signatures by other keys are ignored (C2SP),
    but a signature claiming ``verifier``'s name and key ID that does not verify is refused."""
    text, _, signature_block = note.rpartition("\n\n")
    if not text or not signature_block.endswith("\n"):
        raise NoteError("malformed note: no signature block")
    text += "\n"
    verified = False
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line: {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64decode(encoded)
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        try:
            verifier.public_key.verify(raw[4:], text.encode())
        except InvalidSignature as error:
            raise NoteError(f"invalid signature by {verifier.name}") from error
        verified = True
    if not verified:
        raise NoteError(f"note is not signed by {verifier.name}+{verifier.key_id.hex()}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("malformed checkpoint")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"malformed checkpoint size: {size!r}")
        root_hash = _b64decode(root)
        if len(root_hash) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes")
        return cls(origin, int(size), root_hash, tuple(lines[3:-1]))


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def text(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        head, separator, checkpoint_note = text.partition("\n\n")
        lines = head.split("\n")
        if not separator or lines[0] != PROOF_HEADER:
            raise NoteError("not a c2sp.org/tlog-proof@v1 proof")
        extra = None
        if len(lines) > 1 and lines[1].startswith("extra "):
            extra = _b64decode(lines.pop(1)[len("extra ") :])
        if len(lines) < 2 or not lines[1].startswith("index "):
            raise NoteError("proof has no index line")
        index = lines[1][len("index ") :]
        if not index.isdigit():
            raise NoteError(f"malformed proof index: {index!r}")
        hashes = tuple(_b64decode(line) for line in lines[2:])
        if any(len(h) != 32 for h in hashes):
            raise NoteError("proof hash is not 32 bytes")
        return cls(int(index), hashes, checkpoint_note, extra)
