"""The ``csc`` adapter end to end over HTTP against the CSC v2 test server."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from hocba.signing.adapters import (
    ConfirmationExpired,
    ConfirmationPending,
    ConfirmationRejected,
    KeyUnavailable,
    SignerError,
    WrongPin,
)
from hocba.signing.adapters.csc import (
    SIGN_ECDSA_SHA256,
    SIGN_RSA_SHA256,
    CscClient,
    CscConfirmationPending,
    CscSigner,
    PendingAuthorisation,
    ecdsa_der,
)
from hocba.signing.tests.csc_server import (
    EC_CREDENTIAL,
    FULL_NAME,
    PASSWORD,
    RSA_CREDENTIAL,
    USERNAME,
    Confirmation,
    CscCredentials,
    CscTestServer,
    csc_client,
    csc_credentials,
    csc_server,
    make_server,
)

__all__ = ["csc_client", "csc_credentials", "csc_server"]  # fixtures used by name below

FAST = {"wait_seconds": 2.0, "poll_interval": 0.02}


def _digests(count: int) -> list[bytes]:
    return [hashlib.sha256(secrets.token_bytes(16)).digest() for _ in range(count)]


def _verify(certificate_der: bytes, digest: bytes, value: bytes) -> None:
    """Raise unless ``value`` is the raw signature the interface promises for ``digest``."""
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    prehashed = utils.Prehashed(hashes.SHA256())
    if isinstance(key, rsa.RSAPublicKey):
        assert len(value) == key.key_size // 8
        key.verify(value, digest, padding.PKCS1v15(), prehashed)
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        r, s = utils.decode_dss_signature(value)  # DER ECDSA-Sig-Value
        assert utils.encode_dss_signature(r, s) == value
        key.verify(value, digest, ec.ECDSA(prehashed))


def _raw_post(server: CscTestServer, method: str, body: dict[str, Any], token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1)
        f"{server.base_url}/csc/v2/{method}", json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- discovery -------------------------------------------------------------------------------


def test_info_and_credentials_list(csc_client: CscClient) -> None:
    info = csc_client.info()
    assert info["specs"].startswith("2.")
    assert {"credentials/authorize", "credentials/authorizeCheck", "signatures/signHash"} <= set(
        info["methods"]
    )
    assert csc_client.credentials_list() == [RSA_CREDENTIAL, EC_CREDENTIAL]


def test_credentials_info_has_the_chain(
    csc_client: CscClient, csc_credentials: CscCredentials
) -> None:
    rsa_info = csc_client.credentials_info(RSA_CREDENTIAL)
    assert rsa_info.certificate.subject.native["common_name"] == FULL_NAME
    issuing, root = (c.subject.native["common_name"] for c in rsa_info.chain)
    assert "Issuing CA" in issuing and "Root CA" in root
    assert rsa_info.key_type == "rsa" and rsa_info.key_length == 2048
    assert SIGN_RSA_SHA256 in rsa_info.key_algorithms
    assert (rsa_info.auth_mode, rsa_info.scal, rsa_info.multisign) == ("explicit", 2, 100)
    assert rsa_info.auth_objects[0]["type"] == "ChallengeResponseOOB"

    ec_info = csc_client.credentials_info(EC_CREDENTIAL)
    assert ec_info.key_type == "ec" and ec_info.key_length == 256
    assert ec_info.key_curve == "1.2.840.10045.3.1.7"
    assert ec_info.key_algorithms == (SIGN_ECDSA_SHA256,)
    assert len(ec_info.chain) == 2

    signer = CscSigner(csc_client, EC_CREDENTIAL)
    assert signer.kind == "csc"
    assert signer.certificate.dump() == ec_info.certificate.dump()
    assert [c.dump() for c in signer.chain] == [c.dump() for c in ec_info.chain]


def test_unknown_credential_is_a_signer_error(csc_client: CscClient) -> None:
    with pytest.raises(SignerError, match="không tìm thấy chứng thư số") as caught:
        csc_client.credentials_info("someone-else")
    assert type(caught.value) is SignerError


# --- signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("credential", [RSA_CREDENTIAL, EC_CREDENTIAL])
def test_forty_digests_with_one_confirmation(
    csc_server: CscTestServer, csc_client: CscClient, credential: str
) -> None:
    csc_server.confirmation = Confirmation("auto", after=0.05)
    signer = CscSigner(csc_client, credential, **FAST)
    digests = _digests(40)

    values = signer.sign_digests(digests)

    assert len(values) == 40
    certificate = signer.certificate.dump()
    for digest, value in zip(digests, values, strict=True):
        _verify(certificate, digest, value)
    assert csc_server.count("credentials/authorize") == 1
    assert csc_server.count("signatures/signHash") == 1
    authorize = next(body for name, body in csc_server.calls if name == "credentials/authorize")
    assert authorize["numSignatures"] == 40 and authorize["authData"] == [{"id": "mobile"}]
    assert csc_server.live_sads == 0  # numSignatures used up: the SAD is gone
    assert signer.pending is None


def test_ecdsa_values_in_p1363_form_are_converted_to_der(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    csc_server.ecdsa_format = "p1363"
    signer = CscSigner(csc_client, EC_CREDENTIAL, **FAST)
    digests = _digests(5)
    values = signer.sign_digests(digests)
    for digest, value in zip(digests, values, strict=True):
        _verify(signer.certificate.dump(), digest, value)
    with pytest.raises(ValueError):
        ecdsa_der(b"\x01" * 10, 256)


def test_immediate_sad_needs_no_polling(csc_server: CscTestServer, csc_client: CscClient) -> None:
    pending = csc_client.request_authorisation(RSA_CREDENTIAL, _digests(2), "Ký học bạ lớp 4A")
    assert pending.handle is None and pending.sad is not None
    assert csc_client.poll_authorisation(pending) == pending.sad
    assert csc_server.count("credentials/authorizeCheck") == 0


def test_confirmation_delay_pending_then_confirmed(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    csc_server.confirmation = Confirmation("manual")
    digests = _digests(3)
    started = time.monotonic()
    pending = csc_client.request_authorisation(EC_CREDENTIAL, digests, "Ký học bạ lớp 4A")
    assert time.monotonic() - started < 1  # authorize does not wait for the phone
    assert pending.handle and pending.sad is None and pending.expires_at > time.time() + 200

    with pytest.raises(ConfirmationPending) as caught:
        csc_client.poll_authorisation(pending)
    assert isinstance(caught.value, CscConfirmationPending)
    assert caught.value.state["id"] == pending.id

    csc_server.confirm()
    sad = csc_client.poll_authorisation(pending)
    assert pending.sad == sad
    values = csc_client.sign_hash(EC_CREDENTIAL, sad, digests, SIGN_ECDSA_SHA256)
    certificate = csc_client.credentials_info(EC_CREDENTIAL).certificate.dump()
    for digest, value in zip(digests, values, strict=True):
        _verify(certificate, digest, value)


def test_signer_waits_a_bounded_time_then_continues(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    csc_server.confirmation = Confirmation("manual")
    signer = CscSigner(csc_client, RSA_CREDENTIAL, wait_seconds=0.15, poll_interval=0.05)
    digests = _digests(4)
    started = time.monotonic()
    with pytest.raises(CscConfirmationPending):
        signer.sign_digests(digests)
    assert time.monotonic() - started < 1
    assert signer.pending_state is not None

    csc_server.confirm()
    values = signer.sign_digests(digests)
    for digest, value in zip(digests, values, strict=True):
        _verify(signer.certificate.dump(), digest, value)
    assert csc_server.count("credentials/authorize") == 1
    assert signer.pending is None


def test_confirmation_after_a_delay(csc_server: CscTestServer, csc_client: CscClient) -> None:
    csc_server.confirmation = Confirmation("auto", after=0.2)
    signer = CscSigner(csc_client, RSA_CREDENTIAL, wait_seconds=2, poll_interval=0.05)
    assert len(signer.sign_digests(_digests(2))) == 2
    assert csc_server.count("credentials/authorizeCheck") >= 2


def test_rejection_on_the_phone(csc_server: CscTestServer, csc_client: CscClient) -> None:
    csc_server.confirmation = Confirmation("reject", after=0.05)
    signer = CscSigner(csc_client, RSA_CREDENTIAL, **FAST)
    with pytest.raises(ConfirmationRejected, match="từ chối"):
        signer.sign_digests(_digests(2))
    assert signer.pending is None

    csc_server.confirmation = Confirmation("manual")
    pending = csc_client.request_authorisation(RSA_CREDENTIAL, _digests(1))
    csc_server.reject(pending.handle)
    with pytest.raises(ConfirmationRejected):
        csc_client.poll_authorisation(pending)
    assert csc_server.count("signatures/signHash") == 0


def test_confirmation_expires(csc_server: CscTestServer, csc_client: CscClient) -> None:
    csc_server.confirmation = Confirmation("manual", expires_after=0.2)
    signer = CscSigner(csc_client, RSA_CREDENTIAL, wait_seconds=1, poll_interval=0.05)
    digests = _digests(2)
    with pytest.raises(ConfirmationExpired, match="hết hạn"):
        signer.sign_digests(digests)
    assert signer.pending is None
    csc_server.confirm()  # too late: nothing pending any more
    assert csc_server.pending_handles() == []

    csc_server.confirmation = Confirmation("auto", after=0.02)
    assert len(signer.sign_digests(digests)) == 2  # a new request, confirmed this time
    assert csc_server.count("credentials/authorize") == 2


def test_client_gives_up_at_its_own_deadline(csc_server: CscTestServer) -> None:
    csc_server.confirmation = Confirmation("manual")
    client = CscClient(
        csc_server.base_url, username=USERNAME, password=PASSWORD, confirmation_timeout=0.1
    )
    pending = client.request_authorisation(RSA_CREDENTIAL, _digests(1))
    time.sleep(0.15)
    with pytest.raises(ConfirmationExpired):
        client.poll_authorisation(pending)


def test_expired_sad_is_refused_at_sign_hash(
    csc_credentials: CscCredentials, csc_client: CscClient
) -> None:
    with make_server(csc_credentials, sad_lifetime=0.2) as server:
        client = CscClient(server.base_url, username=USERNAME, password=PASSWORD)
        digests = _digests(2)
        pending = client.request_authorisation(RSA_CREDENTIAL, digests)
        assert pending.sad is not None
        time.sleep(0.3)
        with pytest.raises(ConfirmationExpired, match="Phiên xác nhận ký đã hết hạn"):
            client.sign_hash(RSA_CREDENTIAL, pending.sad, digests, SIGN_RSA_SHA256)
        with pytest.raises(ConfirmationExpired):
            client.poll_authorisation(pending)  # our copy of the SAD knows its lifetime too

        server.confirmation = Confirmation("manual")
        signer = CscSigner(client, RSA_CREDENTIAL, wait_seconds=0, poll_interval=0.01)
        with pytest.raises(CscConfirmationPending):
            signer.sign_digests(digests)
        server.confirm()
        time.sleep(0.3)  # confirmed, but the SAD expires before the batch comes back
        with pytest.raises(ConfirmationExpired):
            signer.sign_digests(digests)
        assert signer.pending is None


def test_sign_hash_refuses_what_the_sad_does_not_cover(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    authorised, other = _digests(2), _digests(1)
    pending = csc_client.request_authorisation(RSA_CREDENTIAL, authorised)
    assert pending.sad is not None
    with pytest.raises(SignerError, match="không nằm trong yêu cầu") as caught:
        csc_client.sign_hash(RSA_CREDENTIAL, pending.sad, [authorised[0], *other], SIGN_RSA_SHA256)
    assert not isinstance(caught.value, ConfirmationExpired)
    with pytest.raises(ConfirmationExpired):  # a SAD is bound to its credential
        csc_client.sign_hash(EC_CREDENTIAL, pending.sad, authorised, SIGN_ECDSA_SHA256)

    csc_client.sign_hash(RSA_CREDENTIAL, pending.sad, authorised[:1], SIGN_RSA_SHA256)
    with pytest.raises(SignerError, match="không nằm trong yêu cầu"):  # used once already
        csc_client.sign_hash(RSA_CREDENTIAL, pending.sad, authorised[:1], SIGN_RSA_SHA256)
    csc_client.sign_hash(RSA_CREDENTIAL, pending.sad, authorised[1:], SIGN_RSA_SHA256)
    with pytest.raises(ConfirmationExpired):  # numSignatures used up: the SAD is gone
        csc_client.sign_hash(RSA_CREDENTIAL, pending.sad, authorised[1:], SIGN_RSA_SHA256)


def test_a_given_sad_is_used_only_for_its_digests(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    digests = _digests(3)
    pending = csc_client.request_authorisation(EC_CREDENTIAL, digests)
    signer = CscSigner(csc_client, EC_CREDENTIAL, sad=pending.sad, sad_digests=digests, **FAST)
    assert len(signer.sign_digests(list(reversed(digests)))) == 3
    assert csc_server.count("credentials/authorize") == 1


def test_more_digests_than_multisign_are_refused_before_asking(
    csc_credentials: CscCredentials,
) -> None:
    with make_server(csc_credentials, multisign=10) as server:
        client = CscClient(server.base_url, username=USERNAME, password=PASSWORD)
        signer = CscSigner(client, RSA_CREDENTIAL, **FAST)
        assert signer.max_batch == 10
        with pytest.raises(SignerError, match="tối đa 10 chữ ký"):
            signer.sign_digests(_digests(11))
        assert server.count("credentials/authorize") == 0


# --- resuming ----------------------------------------------------------------------------------


def test_resume_a_pending_authorisation_in_a_fresh_client(csc_server: CscTestServer) -> None:
    csc_server.confirmation = Confirmation("manual")
    digests = _digests(6)
    first = CscSigner(
        CscClient(csc_server.base_url, username=USERNAME, password=PASSWORD),
        RSA_CREDENTIAL,
        wait_seconds=0,
    )
    with pytest.raises(CscConfirmationPending) as caught:
        first.sign_digests(digests)
    stored = json.dumps(caught.value.state)  # what the batch job keeps in its database row
    first.close()

    csc_server.confirm()  # the teacher confirms later, on her phone

    client = CscClient(csc_server.base_url, username=USERNAME, password=PASSWORD)
    second = CscSigner.resume(client, json.loads(stored), **FAST)
    values = second.sign_digests(digests)
    for digest, value in zip(digests, values, strict=True):
        _verify(second.certificate.dump(), digest, value)
    assert csc_server.count("credentials/authorize") == 1
    assert csc_server.count("auth/login") == 2


def test_resume_refuses_other_digests_and_bad_state(
    csc_server: CscTestServer, csc_client: CscClient
) -> None:
    csc_server.confirmation = Confirmation("manual")
    pending = csc_client.request_authorisation(RSA_CREDENTIAL, _digests(2))
    signer = CscSigner.resume(csc_client, pending.to_json(), **FAST)
    with pytest.raises(SignerError, match="khác với yêu cầu đang chờ"):
        signer.sign_digests(_digests(2))
    assert PendingAuthorisation.from_json(pending.to_json()) == pending
    with pytest.raises(SignerError, match="chứng thư số khác"):
        CscSigner(csc_client, EC_CREDENTIAL, pending=pending)
    with pytest.raises(SignerError, match="Không đọc được"):
        CscSigner.resume(csc_client, {"version": 99})


# --- authentication and transport ----------------------------------------------------------------


def test_wrong_password(csc_server: CscTestServer) -> None:
    client = CscClient(csc_server.base_url, username=USERNAME, password="sai-mật-khẩu")
    with pytest.raises(WrongPin, match="mật khẩu"):
        client.login()
    with pytest.raises(WrongPin):
        client.credentials_list()


def test_access_token_errors(csc_server: CscTestServer, csc_client: CscClient) -> None:
    bogus = CscClient(csc_server.base_url, access_token="not-a-token")
    with pytest.raises(SignerError, match="Phiên đăng nhập") as caught:
        bogus.credentials_list()
    assert type(caught.value) is SignerError

    token = csc_client.login()
    csc_server.expire_tokens()
    only_token = CscClient(csc_server.base_url, access_token=token)
    with pytest.raises(SignerError, match="Phiên đăng nhập"):
        only_token.credentials_list()
    assert csc_client.credentials_list()  # with a password: logs in again and retries
    assert csc_server.count("auth/login") == 2


def test_server_errors_follow_the_spec(csc_server: CscTestServer, csc_client: CscClient) -> None:
    assert _raw_post(csc_server, "credentials/list", {}) == (
        401,
        {"error": "invalid_request", "error_description": "Missing authorization header"},
    )
    status, body = _raw_post(csc_server, "credentials/list", {}, token="nope")
    assert (status, body["error"]) == (401, "invalid_token")
    token = csc_client.login()
    digest = base64.b64encode(_digests(1)[0]).decode()
    status, body = _raw_post(
        csc_server,
        "signatures/signHash",
        {"credentialID": RSA_CREDENTIAL, "hashes": [digest], "signAlgo": SIGN_RSA_SHA256},
        token,
    )
    assert (status, body["error_description"]) == (
        400,
        "Missing (or invalid type) string parameter SAD",
    )
    csc_server.confirmation = Confirmation("manual")
    request = {
        "credentialID": RSA_CREDENTIAL,
        "numSignatures": 1,
        "hashes": [digest],
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        "authData": [{"id": "mobile"}],
    }
    status, body = _raw_post(csc_server, "credentials/authorize", request, token)
    assert status == 202 and set(body) == {"handle"}
    status, body = _raw_post(csc_server, "credentials/authorizeCheck", body, token)
    assert status == 202 and set(body) == {"handle"}
    status, body = _raw_post(csc_server, "credentials/authorizeCheck", {"handle": "x"}, token)
    assert (status, body["error_description"]) == (400, "Invalid parameter handle")
    status, body = _raw_post(
        csc_server, "credentials/authorize", {**request, "authData": []}, token
    )
    assert (status, body["error"]) == (400, "invalid_authentication_data")
    status, _body = _raw_post(csc_server, "signatures/signDoc", {}, token)
    assert status == 501


def test_server_down_is_key_unavailable(csc_credentials: CscCredentials) -> None:
    server = make_server(csc_credentials).start()
    url = server.base_url
    server.stop()
    client = CscClient(url, username=USERNAME, password=PASSWORD, timeout=2)
    with pytest.raises(KeyUnavailable, match="Không kết nối được"):
        client.credentials_list()


def test_slow_server_is_key_unavailable(csc_server: CscTestServer) -> None:
    csc_server.response_delay = 0.5
    client = CscClient(csc_server.base_url, username=USERNAME, password=PASSWORD, timeout=0.1)
    with pytest.raises(KeyUnavailable, match="không phản hồi kịp thời"):
        client.info()
