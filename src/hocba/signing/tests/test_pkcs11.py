"""The pkcs11 adapter against real SoftHSM2 tokens: signatures, certificates, failures."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from pkcs11 import TokenFlag
from pkcs11 import exceptions as p11

from hocba.signing.adapters import KeyUnavailable, SignerError, WrongPin
from hocba.signing.adapters import pkcs11 as adapter
from hocba.signing.adapters.pkcs11 import (
    Pkcs11Signer,
    default_module_path,
    list_token_certificates,
)
from hocba.signing.pki import DemoPki, load_certificate
from hocba.signing.tests.softhsm import (
    SoftHsm,
    SoftHsmKey,
    ec_key_on_token,
    rsa_key_on_token,
)

# The SoftHSM fixtures (softhsm, softhsm_pki, softhsm_rsa_token, softhsm_ec_token) come from
# conftest.py: one SoftHSM configuration per test process (see softhsm.py).


DIGESTS = [hashlib.sha256(f"học bạ {n}".encode()).digest() for n in range(5)]


def _verify(certificate: asn1_x509.Certificate, digest: bytes, signature: bytes) -> None:
    """What a relying party does: RSASSA-PKCS1-v1_5 or ECDSA with SHA-256 over the digest."""
    public_key = serialization.load_der_public_key(certificate.public_key.dump())
    prehashed = utils.Prehashed(hashes.SHA256())
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, digest, padding.PKCS1v15(), prehashed)
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        public_key.verify(signature, digest, ec.ECDSA(prehashed))


def _verify_all(
    certificate: asn1_x509.Certificate, digests: Sequence[bytes], signatures: Sequence[bytes]
) -> None:
    assert len(signatures) == len(digests)
    for digest, signature in zip(digests, signatures, strict=True):
        _verify(certificate, digest, signature)


# --- signing ------------------------------------------------------------------------------------


def test_rsa_key_signs_many_digests_in_one_call(softhsm_rsa_token: SoftHsmKey) -> None:
    with softhsm_rsa_token.signer() as signer:
        assert signer.kind == "pkcs11"
        signatures = signer.sign_digests(DIGESTS)
        again = signer.sign_digests(DIGESTS[:1])
    _verify_all(signer.certificate, DIGESTS, signatures)
    assert again == signatures[:1]  # RSASSA-PKCS1-v1_5 is deterministic
    assert all(len(signature) == 256 for signature in signatures)
    with pytest.raises(InvalidSignature):
        _verify(signer.certificate, DIGESTS[1], signatures[0])


def test_ec_key_made_on_the_token_signs_der_ecdsa_values(softhsm_ec_token: SoftHsmKey) -> None:
    with softhsm_ec_token.signer() as signer:
        signatures = signer.sign_digests(DIGESTS)
    _verify_all(signer.certificate, DIGESTS, signatures)
    assert all(signature[0] == 0x30 for signature in signatures)  # DER SEQUENCE, not r || s
    assert signer.certificate.public_key.algorithm == "ec"


def test_certificate_is_read_from_the_token(
    softhsm_rsa_token: SoftHsmKey, softhsm_pki: DemoPki
) -> None:
    teacher_cert = load_certificate(softhsm_pki.people["a_gvcn"].cert_path)
    with softhsm_rsa_token.signer() as signer:
        assert signer.certificate.dump() == teacher_cert.public_bytes(serialization.Encoding.DER)
        assert [c.dump() for c in signer.chain] == [c.dump() for c in softhsm_rsa_token.chain]
        assert signer.chain[0].subject == signer.certificate.issuer


def test_key_can_be_chosen_by_id_alone(softhsm_ec_token: SoftHsmKey) -> None:
    with softhsm_ec_token.signer(key_label=None, key_id=softhsm_ec_token.key_id) as signer:
        assert signer.certificate.dump() == softhsm_ec_token.certificate.dump()
        _verify_all(signer.certificate, DIGESTS[:2], signer.sign_digests(DIGESTS[:2]))


def test_empty_batch_and_bad_digest_sizes(softhsm_ec_token: SoftHsmKey) -> None:
    with softhsm_ec_token.signer() as signer:
        assert signer.sign_digests([]) == []
        with pytest.raises(ValueError, match="32-byte"):
            signer.sign_digests([b"short"])


def test_key_that_asks_for_the_pin_on_every_signature(
    softhsm: SoftHsm, softhsm_pki: DemoPki
) -> None:
    key = ec_key_on_token(softhsm, softhsm_pki, "hocba-always-auth", always_authenticate=True)
    with key.signer() as signer:
        _verify_all(signer.certificate, DIGESTS, signer.sign_digests(DIGESTS))


def test_closed_signer_refuses_and_close_is_idempotent(softhsm_rsa_token: SoftHsmKey) -> None:
    signer = softhsm_rsa_token.signer()
    signer.close()
    signer.close()
    with pytest.raises(SignerError, match="đã đóng"):
        signer.sign_digests(DIGESTS[:1])
    with softhsm_rsa_token.signer() as again:  # the logout freed the token for the next one
        _verify_all(again.certificate, DIGESTS[:1], again.sign_digests(DIGESTS[:1]))


# --- enrolment from a token ---------------------------------------------------------------------


def test_list_token_certificates_returns_certificates_with_keys(
    softhsm: SoftHsm, softhsm_pki: DemoPki
) -> None:
    key = rsa_key_on_token(softhsm, softhsm_pki, "hocba-list")
    issuing = load_certificate(softhsm_pki.issuing_cert)
    with key.token.session() as session:  # a CA certificate without a key is not offered
        key.token.store_certificate(session, issuing, key_label="ca", key_id=b"\xca")
    for pin in (key.pin, None):
        found = list_token_certificates(
            module_path=key.module_path, token_label=key.token_label, pin=pin
        )
        assert [(entry.label, entry.key_id) for entry in found] == [(key.key_label, key.key_id)]
        assert found[0].certificate.dump() == key.certificate.dump()
    with key.signer(key_label=None, key_id=found[0].key_id) as signer:
        assert signer.certificate.dump() == key.certificate.dump()


def test_list_token_certificates_with_wrong_pin(softhsm_ec_token: SoftHsmKey) -> None:
    with pytest.raises(WrongPin):
        list_token_certificates(
            module_path=softhsm_ec_token.module_path,
            token_label=softhsm_ec_token.token_label,
            pin="000000",
        )


# --- failures -----------------------------------------------------------------------------------


def test_wrong_pin(softhsm_rsa_token: SoftHsmKey) -> None:
    with pytest.raises(WrongPin, match="không đúng") as caught:
        softhsm_rsa_token.signer(pin="000000")
    assert softhsm_rsa_token.token_label in caught.value.message
    with softhsm_rsa_token.signer() as signer:  # the right PIN still works afterwards
        assert signer.sign_digests(DIGESTS[:1])


def test_unknown_token_label(softhsm_rsa_token: SoftHsmKey) -> None:
    with pytest.raises(KeyUnavailable, match="“khong-co-token”"):
        softhsm_rsa_token.signer(token_label="khong-co-token")


def test_missing_module(softhsm_rsa_token: SoftHsmKey, tmp_path: Path) -> None:
    missing = str(tmp_path / "libkhongco.so")
    with pytest.raises(KeyUnavailable, match=r"libkhongco\.so"):
        softhsm_rsa_token.signer(module_path=missing)
    with pytest.raises(KeyUnavailable):
        list_token_certificates(module_path=missing, token_label="x")


def test_module_that_is_not_a_pkcs11_library(softhsm_rsa_token: SoftHsmKey, tmp_path: Path) -> None:
    broken = tmp_path / "libhong.so"
    broken.write_bytes(b"not an ELF file")
    with pytest.raises(KeyUnavailable, match=r"libhong\.so"):
        softhsm_rsa_token.signer(module_path=str(broken))


def test_key_label_not_found(softhsm_rsa_token: SoftHsmKey) -> None:
    with pytest.raises(SignerError, match="“khoa-khong-co”") as caught:
        softhsm_rsa_token.signer(key_label="khoa-khong-co")
    assert type(caught.value) is SignerError
    with softhsm_rsa_token.signer() as signer:  # the failed attempt logged out again
        assert signer.sign_digests(DIGESTS[:1])


def test_second_signer_on_a_busy_token_is_refused_even_with_the_right_pin(
    softhsm_rsa_token: SoftHsmKey,
) -> None:
    with softhsm_rsa_token.signer() as first:
        # PKCS#11 shares one login per process: a second login would not even check the PIN.
        for pin in (softhsm_rsa_token.pin, "000000"):
            with pytest.raises(SignerError, match="đang được dùng") as caught:
                softhsm_rsa_token.signer(pin=pin)
            assert not isinstance(caught.value, WrongPin)
        assert first.sign_digests(DIGESTS[:1])


def test_token_removed_between_two_calls(softhsm: SoftHsm, softhsm_pki: DemoPki) -> None:
    key = rsa_key_on_token(softhsm, softhsm_pki, "hocba-removable")
    signer = key.signer()
    try:
        _verify_all(signer.certificate, DIGESTS[:2], signer.sign_digests(DIGESTS[:2]))
        key.token.delete()
        with pytest.raises(KeyUnavailable, match="hocba-removable"):
            signer.sign_digests(DIGESTS[2:])
        with pytest.raises(KeyUnavailable, match="hocba-removable"):
            key.signer()  # still gone
    finally:
        signer.close()
    again = rsa_key_on_token(softhsm, softhsm_pki, "hocba-removable")  # plugged back in
    with again.signer() as fresh:
        _verify_all(fresh.certificate, DIGESTS, fresh.sign_digests(DIGESTS))


def test_each_process_makes_its_own_signer(softhsm_ec_token: SoftHsmKey) -> None:
    signer = softhsm_ec_token.signer()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read_end)
        report = b"?"
        try:
            try:
                signer.sign_digests(DIGESTS[:1])
                report = b"inherited signer signed"
            except SignerError:
                with softhsm_ec_token.signer() as own:
                    _verify_all(own.certificate, DIGESTS, own.sign_digests(DIGESTS))
                report = b"ok"
        except BaseException as error:
            report = repr(error).encode()
        finally:
            os.write(write_end, report)
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    try:
        assert report == b"ok"
        _verify_all(signer.certificate, DIGESTS[:1], signer.sign_digests(DIGESTS[:1]))
    finally:
        signer.close()


# --- PIN states SoftHSM never reaches (it does not lock PINs): a fake module --------------------


class _FakeToken:
    label = "token-gia"
    serial = b"fake0001"

    def __init__(self, flags: TokenFlag, error: type[Exception] | None) -> None:
        self.flags = flags
        self._error = error

    def open(self, **kwargs: Any) -> Any:
        assert self._error is not None
        raise self._error()


class _FakeLibrary:
    so = "fake"

    def __init__(self, tokens: list[_FakeToken]) -> None:
        self._tokens = tokens

    def get_token(self, token_label: str) -> _FakeToken:
        return self._tokens.pop(0) if len(self._tokens) > 1 else self._tokens[0]


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    path = tmp_path / "libfake-pkcs11.so"
    path.write_bytes(b"")

    def install(*tokens: _FakeToken) -> str:
        library = _FakeLibrary(list(tokens))
        monkeypatch.setattr(adapter.pkcs11, "lib", lambda so: library)
        return str(path)

    return install


def _fake_signer(module_path: str) -> Pkcs11Signer:
    return Pkcs11Signer(module_path=module_path, token_label="token-gia", pin="123456")


def test_locked_pin_is_reported_before_trying(fake_module: Any) -> None:
    module_path = fake_module(_FakeToken(TokenFlag.USER_PIN_LOCKED, None))
    with pytest.raises(WrongPin, match="đã bị khoá") as caught:
        _fake_signer(module_path)
    assert "mở khoá" in caught.value.message


def test_pin_locked_by_the_token_on_login(fake_module: Any) -> None:
    module_path = fake_module(_FakeToken(TokenFlag(0), p11.PinLocked))
    with pytest.raises(WrongPin, match="đã bị khoá"):
        _fake_signer(module_path)


def test_wrong_pin_warns_before_the_last_try(fake_module: Any) -> None:
    module_path = fake_module(
        _FakeToken(TokenFlag.USER_PIN_COUNT_LOW, p11.PinIncorrect),
        _FakeToken(TokenFlag.USER_PIN_FINAL_TRY, None),
    )
    with pytest.raises(WrongPin, match="sai thêm một lần nữa"):
        _fake_signer(module_path)


def test_token_error_on_login_is_not_leaked(fake_module: Any) -> None:
    module_path = fake_module(_FakeToken(TokenFlag(0), p11.DeviceRemoved))
    with pytest.raises(KeyUnavailable, match="token-gia"):
        _fake_signer(module_path)


# --- module discovery ---------------------------------------------------------------------------


def test_default_module_path_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOCBA_PKCS11_MODULE", "/opt/token/libvendor-pkcs11.so")
    assert default_module_path() == "/opt/token/libvendor-pkcs11.so"
    monkeypatch.delenv("HOCBA_PKCS11_MODULE")
    found = default_module_path()
    assert found is None or os.path.isfile(found)


def test_default_module_path_finds_softhsm(
    softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOCBA_PKCS11_MODULE", raising=False)
    softhsm_only = tuple(path for path in adapter.MODULE_CANDIDATES if "softhsm" in path)
    monkeypatch.setattr(adapter, "MODULE_CANDIDATES", softhsm_only)
    found = default_module_path()
    assert found is not None and os.path.realpath(found) == softhsm.module_path
