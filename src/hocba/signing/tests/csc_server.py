"""A CSC API v2 test server (the shape of VNPT SmartCA / Viettel MySign), stdlib only.

:class:`CscTestServer` runs a threaded ``http.server`` on 127.0.0.1 with a random port and speaks
the part of the Cloud Signature Consortium API v2.0.0.2 that remote hash signing needs: ``info``,
``auth/login`` (HTTP Basic), ``auth/revoke``, ``credentials/list``, ``credentials/info``,
``credentials/authorize`` (``202 {handle}`` while the user has to confirm on the phone),
``credentials/authorizeCheck`` and ``signatures/signHash``. It really signs with the keys it holds.

The phone is simulated per test by :class:`Confirmation` (confirm or reject after some seconds,
or wait for the test's :meth:`CscTestServer.confirm` / :meth:`CscTestServer.reject`; a request
still pending after ``expires_after`` seconds expires). A SAD is valid ``sad_lifetime`` seconds,
for exactly the authorised hashes (as a multiset) and ``numSignatures`` signatures.

Errors follow the spec: HTTP 400 with ``invalid_request`` and the descriptions of the method
tables (e.g. "SAD expired", "Hash is not authorized by the SAD"), ``authentication_error`` for a
wrong password, HTTP 401 ``invalid_token``/``expired_token`` for the bearer token. For a refused
or expired confirmation the spec has no code; we answer ``access_denied`` and ``expired_token``
(HTTP 400), the common error codes of the CSC spec (as RFC 8628 does for the device flow).

Fixtures (import them explicitly in a test module): ``csc_credentials`` (module scope, the demo
PKI with an RSA and an EC P-256 credential), ``csc_server`` (a running server with user
:data:`USERNAME` owning :data:`RSA_CREDENTIAL` and :data:`EC_CREDENTIAL`) and ``csc_client``
(a :class:`~hocba.signing.adapters.csc.CscClient` logged in as that user on demand).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12

from hocba.signing.adapters.csc import (
    HASH_SHA256,
    SIGN_ECDSA_SHA256,
    SIGN_RSA,
    SIGN_RSA_SHA256,
    CscClient,
)
from hocba.signing.pki import (
    DemoPki,
    init_demo_pki,
    issue_signing_certificate,
    load_certificate,
)

USERNAME = "a_gvcn"
PASSWORD = "mật-khẩu-thử"
FULL_NAME = "Nguyễn Thị Hoà"
PIN = "123456"
RSA_CREDENTIAL = "gvcn-rsa-2048"
EC_CREDENTIAL = "gvcn-ec-p256"
SPECS = "2.0.0.2"
MOBILE_AUTH = {
    "type": "ChallengeResponseOOB",
    "id": "mobile",
    "label": "Xác nhận trên điện thoại",
    "description": "Mở ứng dụng ký số trên điện thoại để xác nhận yêu cầu ký",
}
EC_P256_OID = "1.2.840.10045.3.1.7"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Confirmation:
    """How the simulated phone answers a ``credentials/authorize`` request.

    ``auto``: confirmed ``after`` seconds (``after <= 0``: the SAD comes at once, HTTP 200);
    ``reject``: refused ``after`` seconds; ``manual``: only the test's hooks decide. A request
    still pending ``expires_after`` seconds after it was made expires.
    """

    mode: Literal["auto", "reject", "manual"] = "auto"
    after: float = 0.0
    expires_after: float = 300.0


@dataclass
class Credential:
    credential_id: str
    owner: str
    key: PrivateKey
    certificates: list[x509.Certificate]  # signing certificate first, then the chain
    description: str = ""
    enabled: bool = True


@dataclass
class PendingRequest:
    handle: str
    username: str
    credential_id: str
    hashes: list[bytes]
    num_signatures: int
    created: float
    confirmation: Confirmation
    state: Literal["pending", "confirmed", "rejected", "expired"] = "pending"
    sad: str | None = None


@dataclass
class Sad:
    credential_id: str
    username: str
    hashes: Counter[bytes]
    remaining: int
    expires: float


@dataclass
class AccessToken:
    username: str
    expires: float


class CscError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _seconds(value: float) -> int | float:
    """A lifetime as a JSON Number: whole seconds, or fractions for the fast tests."""
    return int(value) if value >= 10 or value == int(value) else round(value, 3)


def _invalid(description: str) -> CscError:
    return CscError(400, "invalid_request", description)


@dataclass
class CscTestServer:
    """The server; use as a context manager (or :meth:`start` / :meth:`stop`)."""

    token_lifetime: float = 3600.0
    sad_lifetime: float = 300.0
    multisign: int = 100
    confirmation: Confirmation = field(default_factory=Confirmation)
    ecdsa_format: Literal["der", "p1363"] = "der"
    response_delay: float = 0.0  # seconds to sleep before answering (timeouts)
    users: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tokens: dict[str, AccessToken] = {}
        self._pending: dict[str, PendingRequest] = {}
        self._sads: dict[str, Sad] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up --

    def add_user(self, username: str, password: str) -> None:
        self.users[username] = password

    def add_credential(
        self,
        credential_id: str,
        owner: str,
        key: PrivateKey,
        certificates: Sequence[x509.Certificate],
        *,
        description: str = "",
        enabled: bool = True,
    ) -> None:
        self.credentials[credential_id] = Credential(
            credential_id, owner, key, list(certificates), description, enabled
        )

    # -- lifecycle --

    def start(self) -> CscTestServer:
        handler = type("Handler", (_Handler,), {"csc": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> CscTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test hooks --

    def pending_handles(self) -> list[str]:
        with self._lock:
            now = time.monotonic()
            return [h for h, r in self._pending.items() if self._resolve(r, now) == "pending"]

    def confirm(self, handle: str | None = None) -> None:
        """The user confirms on the phone (every pending request, or this one)."""
        self._decide(handle, confirm=True)

    def reject(self, handle: str | None = None) -> None:
        """The user refuses on the phone (every pending request, or this one)."""
        self._decide(handle, confirm=False)

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.expires = 0.0

    def count(self, method: str) -> int:
        return sum(1 for name, _body in self.calls if name == method)

    @property
    def live_sads(self) -> int:
        with self._lock:
            now = time.monotonic()
            return sum(1 for sad in self._sads.values() if sad.expires > now)

    def _decide(self, handle: str | None, *, confirm: bool) -> None:
        with self._lock:
            now = time.monotonic()
            targets = [self._pending[handle]] if handle else list(self._pending.values())
            for request in targets:
                if self._resolve(request, now) != "pending":
                    continue
                if confirm:
                    self._grant(request, now)
                else:
                    request.state = "rejected"

    # -- request handling --

    def handle(self, method: str, body: dict[str, Any], headers: Any) -> tuple[int, dict | None]:
        self.calls.append((method, body))
        if self.response_delay:
            time.sleep(self.response_delay)
        with self._lock:
            if method == "info":
                return 200, self._info()
            if method == "auth/login":
                return 200, self._login(headers.get("Authorization"))
            username = self._user_for(headers.get("Authorization"))
            handlers = {
                "auth/revoke": self._revoke,
                "credentials/list": self._credentials_list,
                "credentials/info": self._credentials_info,
                "credentials/authorize": self._authorize,
                "credentials/authorizeCheck": self._authorize_check,
                "signatures/signHash": self._sign_hash,
            }
            if method not in handlers:
                raise CscError(501, "invalid_request", f"Method {method} not implemented")
            return handlers[method](username, body)

    def _info(self) -> dict[str, Any]:
        return {
            "specs": SPECS,
            "name": "hocba CSC test server — NOT FOR PRODUCTION",
            "logo": "http://127.0.0.1/logo.png",
            "region": "VN",
            "lang": "vi-VN",
            "description": "Dịch vụ ký số từ xa giả lập để chạy thử, không dùng thật.",
            "authType": ["basic"],
            "methods": [
                "auth/login",
                "auth/revoke",
                "credentials/list",
                "credentials/info",
                "credentials/authorize",
                "credentials/authorizeCheck",
                "signatures/signHash",
            ],
            "signAlgorithms": {"algos": [SIGN_RSA_SHA256, SIGN_RSA, SIGN_ECDSA_SHA256]},
            "signature_formats": {"formats": ["C", "P"], "envelope_properties": [[], []]},
            "conformance_levels": ["Ades-B-B"],
        }

    def _login(self, authorization: str | None) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Basic "):
            raise CscError(401, "invalid_request", "Malformed authentication parameter")
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CscError(401, "invalid_request", "Malformed authentication parameter") from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise _invalid("Malformed username-password")
        if not secrets.compare_digest(self.users.get(username, "\0").encode(), password.encode()):
            raise CscError(
                400, "authentication_error", "An error occurred during authentication process"
            )
        token = secrets.token_urlsafe(24)
        self._tokens[token] = AccessToken(username, time.monotonic() + self.token_lifetime)
        return {"access_token": token, "expires_in": math.ceil(self.token_lifetime)}

    def _user_for(self, authorization: str | None) -> str:
        if not authorization:
            raise CscError(401, "invalid_request", "Missing authorization header")
        if not authorization.startswith("Bearer "):
            raise _invalid("Malformed authorization header")
        token = self._tokens.get(authorization[7:])
        if token is None:
            raise CscError(401, "invalid_token", "The access token is not valid")
        if token.expires <= time.monotonic():
            raise CscError(401, "expired_token", "The access token has expired")
        return token.username

    def _revoke(self, username: str, body: dict[str, Any]) -> tuple[int, dict | None]:
        self._tokens.pop(str(body.get("token")), None)
        return 204, None

    def _credential(self, username: str, body: dict[str, Any]) -> Credential:
        credential_id = body.get("credentialID")
        if not isinstance(credential_id, str):
            raise _invalid("Missing (or invalid type) string parameter credentialID")
        credential = self.credentials.get(credential_id)
        if credential is None or credential.owner != username:
            raise _invalid("Invalid parameter credentialID")
        return credential

    def _credentials_list(self, username: str, body: dict[str, Any]) -> tuple[int, dict]:
        if body.get("userID") is not None:
            raise _invalid("userID parameter MUST be null")
        mine = [c for c in self.credentials.values() if c.owner == username]
        result: dict[str, Any] = {"credentialIDs": [c.credential_id for c in mine]}
        if body.get("credentialInfo"):
            result["credentialInfos"] = [
                {"credentialID": c.credential_id, **self._describe(c, body)} for c in mine
            ]
        return 200, result

    def _credentials_info(self, username: str, body: dict[str, Any]) -> tuple[int, dict]:
        return 200, self._describe(self._credential(username, body), body)

    def _describe(self, credential: Credential, body: dict[str, Any]) -> dict[str, Any]:
        which = body.get("certificates", "single")
        if which not in ("none", "single", "chain"):
            raise _invalid("Invalid parameter certificates")
        leaf = credential.certificates[0]
        now = dt.datetime.now(dt.UTC)
        status = (
            "valid" if leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc else "expired"
        )
        cert: dict[str, Any] = {"status": status}
        chosen = {"none": [], "single": [leaf], "chain": credential.certificates}[which]
        if which != "none":
            cert["certificates"] = [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in chosen
            ]
        if body.get("certInfo"):
            cert |= {
                "issuerDN": leaf.issuer.rfc4514_string(),
                "subjectDN": leaf.subject.rfc4514_string(),
                "serialNumber": format(leaf.serial_number, "X"),
                "validFrom": leaf.not_valid_before_utc.strftime("%Y%m%d%H%M%SZ"),
                "validTo": leaf.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ"),
            }
        key = credential.key
        if isinstance(key, rsa.RSAPrivateKey):
            key_info: dict[str, Any] = {"algo": [SIGN_RSA_SHA256, SIGN_RSA], "len": key.key_size}
        else:
            key_info = {"algo": [SIGN_ECDSA_SHA256], "len": key.key_size, "curve": EC_P256_OID}
        key_info["status"] = "enabled" if credential.enabled else "disabled"
        auth: dict[str, Any] = {"mode": "explicit"}
        if body.get("authInfo"):
            auth |= {"expression": MOBILE_AUTH["id"], "objects": [MOBILE_AUTH]}
        result = {"key": key_info, "cert": cert, "auth": auth, "SCAL": "2"}
        result |= {"multisign": self.multisign, "lang": "vi-VN"}
        if credential.description:
            result["description"] = credential.description
        return result

    def _hashes(self, body: dict[str, Any], *, required: bool = True) -> list[bytes]:
        values = body.get("hashes")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _invalid("Missing (or invalid type) array parameter hashes")
        if not values and required:
            raise _invalid("Empty hash array")
        try:
            decoded = [base64.b64decode(value, validate=True) for value in values]
        except (binascii.Error, ValueError):
            raise _invalid("Invalid Base64 hash string parameter") from None
        if any(len(value) != 32 for value in decoded):
            raise _invalid("Invalid digest value length")
        return decoded

    def _authorize(self, username: str, body: dict[str, Any]) -> tuple[int, dict]:
        credential = self._credential(username, body)
        if not credential.enabled:
            raise _invalid("The credential identified by credentialID is disabled")
        num = body.get("numSignatures")
        if not isinstance(num, int) or isinstance(num, bool):
            raise _invalid("Missing (or invalid type) integer parameter numSignatures")
        if num < 1:
            raise _invalid("Invalid value for parameter numSignatures")
        if num > self.multisign:
            raise _invalid("Numbers of signatures is too high")
        hash_list = self._hashes(body)  # SCAL 2: the SAD is bound to the hashes
        if body.get("hashAlgorithmOID") != HASH_SHA256:
            raise _invalid("Invalid parameter hashAlgorithmOID")
        if len(hash_list) != num:
            raise _invalid("Invalid value for parameter numSignatures")
        auth_data = body.get("authData")
        if not isinstance(auth_data, list) or {"id": MOBILE_AUTH["id"]} not in auth_data:
            raise CscError(400, "invalid_authentication_data", "The authentication data is invalid")
        now = time.monotonic()
        request = PendingRequest(
            handle=secrets.token_urlsafe(18),
            username=username,
            credential_id=credential.credential_id,
            hashes=hash_list,
            num_signatures=num,
            created=now,
            confirmation=self.confirmation,
        )
        if request.confirmation.mode == "auto" and request.confirmation.after <= 0:
            sad = self._grant(request, now)
            return 200, {"SAD": sad, "expiresIn": _seconds(self.sad_lifetime)}
        self._pending[request.handle] = request
        return 202, {"handle": request.handle}

    def _authorize_check(self, username: str, body: dict[str, Any]) -> tuple[int, dict]:
        handle = body.get("handle")
        request = self._pending.get(handle) if isinstance(handle, str) else None
        if request is None or request.username != username:
            raise _invalid("Invalid parameter handle")
        now = time.monotonic()
        state = self._resolve(request, now)
        if state == "pending":
            return 202, {"handle": request.handle}
        if state == "rejected":
            raise CscError(400, "access_denied", "The user refused the authorization request")
        sad = self._sads.get(request.sad or "")
        if state == "expired" or sad is None or sad.expires <= now:
            raise CscError(400, "expired_token", "The authorization request has expired")
        return 200, {"SAD": request.sad, "expiresIn": _seconds(sad.expires - now)}

    def _resolve(self, request: PendingRequest, now: float) -> str:
        if request.state == "pending":
            confirmation = request.confirmation
            decided_at = request.created + confirmation.after
            expires_at = request.created + confirmation.expires_after
            if confirmation.mode != "manual" and decided_at <= min(now, expires_at):
                if confirmation.mode == "auto":
                    self._grant(request, decided_at)
                else:
                    request.state = "rejected"
            elif now >= expires_at:
                request.state = "expired"
        return request.state

    def _grant(self, request: PendingRequest, at: float) -> str:
        sad = secrets.token_urlsafe(32)
        self._sads[sad] = Sad(
            credential_id=request.credential_id,
            username=request.username,
            hashes=Counter(request.hashes),
            remaining=request.num_signatures,
            expires=at + self.sad_lifetime,
        )
        request.state = "confirmed"
        request.sad = sad
        return sad

    def _sign_hash(self, username: str, body: dict[str, Any]) -> tuple[int, dict]:
        credential = self._credential(username, body)
        sad_value = body.get("SAD")
        if not isinstance(sad_value, str):
            raise _invalid("Missing (or invalid type) string parameter SAD")
        hash_list = self._hashes(body)
        sign_algo = body.get("signAlgo")
        if not isinstance(sign_algo, str):
            raise _invalid("Missing (or invalid type) string parameter signAlgo")
        is_rsa = isinstance(credential.key, rsa.RSAPrivateKey)
        allowed = (SIGN_RSA_SHA256, SIGN_RSA) if is_rsa else (SIGN_ECDSA_SHA256,)
        if sign_algo not in allowed:
            raise _invalid("Invalid parameter signAlgo")
        if sign_algo == SIGN_RSA and body.get("hashAlgorithmOID") != HASH_SHA256:
            raise _invalid("Missing (or invalid type) string parameter hashAlgorithmOID")
        sad = self._sads.get(sad_value)
        if sad is None or sad.username != username or sad.credential_id != credential.credential_id:
            raise _invalid("Invalid parameter SAD")
        if sad.expires <= time.monotonic():
            del self._sads[sad_value]
            raise _invalid("SAD expired")
        if Counter(hash_list) - sad.hashes or len(hash_list) > sad.remaining:
            raise _invalid("Hash is not authorized by the SAD")
        sad.hashes -= Counter(hash_list)
        sad.remaining -= len(hash_list)
        if sad.remaining == 0:
            del self._sads[sad_value]
        values = [self._sign(credential.key, digest) for digest in hash_list]
        return 200, {"signatures": [base64.b64encode(v).decode() for v in values]}

    def _sign(self, key: PrivateKey, digest: bytes) -> bytes:
        prehashed = utils.Prehashed(hashes.SHA256())
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PKCS1v15(), prehashed)
        der = key.sign(digest, ec.ECDSA(prehashed))
        if self.ecdsa_format == "der":
            return der
        r, s = utils.decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


class _Handler(BaseHTTPRequestHandler):
    csc: CscTestServer
    server_version = "hocba-csc-test/1"

    def do_POST(self) -> None:
        prefix = "/csc/v2/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.startswith(prefix):
            self._send(404, {"error": "invalid_request", "error_description": "Not found"})
            return
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError):
            self._send(400, {"error": "invalid_request", "error_description": "Malformed JSON"})
            return
        try:
            status, answer = self.csc.handle(self.path[len(prefix) :], body, self.headers)
        except CscError as error:
            extra = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
            payload = {"error": error.error, "error_description": error.description}
            self._send(error.status, payload, extra)
            return
        self._send(status, answer)

    def do_GET(self) -> None:
        self._send(405, {"error": "invalid_request", "error_description": "Use POST"})

    def _send(
        self, status: int, payload: dict | None, headers: dict[str, str] | None = None
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def log_message(self, format: str, *args: Any) -> None:
        return


# --- credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CscCredentials:
    pki: DemoPki
    rsa_key: rsa.RSAPrivateKey
    rsa_certificates: list[x509.Certificate]
    ec_key: ec.EllipticCurvePrivateKey
    ec_certificates: list[x509.Certificate]


def issue_ec_credential(
    pki: DemoPki, common_name: str, serial: str
) -> tuple[ec.EllipticCurvePrivateKey, list[x509.Certificate]]:
    """A P-256 signing certificate from the demo issuing CA, with its chain."""
    issuing_key = serialization.load_pem_private_key(pki.issuing_key.read_bytes(), password=None)
    assert isinstance(issuing_key, ec.EllipticCurvePrivateKey)
    issuing = load_certificate(pki.issuing_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = issue_signing_certificate(
        issuing, issuing_key, common_name, key.public_key(), serial=serial
    )
    return key, [certificate, issuing, load_certificate(pki.root_cert)]


def make_credentials(folder: Path) -> CscCredentials:
    pki = init_demo_pki(
        folder, schools=[("01001", "Trường Tiểu học Kim Đồng")], people=[(USERNAME, FULL_NAME, PIN)]
    )
    p12 = pki.people[USERNAME].p12_path.read_bytes()
    key, certificate, extra = pkcs12.load_key_and_certificates(p12, PIN.encode())
    assert isinstance(key, rsa.RSAPrivateKey) and certificate is not None
    ec_key, ec_certificates = issue_ec_credential(pki, FULL_NAME, "agvcn-ec")
    return CscCredentials(pki, key, [certificate, *extra], ec_key, ec_certificates)


def make_server(credentials: CscCredentials, **options: Any) -> CscTestServer:
    server = CscTestServer(**options)
    server.add_user(USERNAME, PASSWORD)
    server.add_credential(
        RSA_CREDENTIAL,
        USERNAME,
        credentials.rsa_key,
        credentials.rsa_certificates,
        description="RSA-2048",
    )
    server.add_credential(
        EC_CREDENTIAL,
        USERNAME,
        credentials.ec_key,
        credentials.ec_certificates,
        description="ECDSA P-256",
    )
    return server


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csc_credentials(tmp_path_factory: pytest.TempPathFactory) -> CscCredentials:
    """The demo PKI, the teacher's RSA key and chain (from her PKCS#12) and an EC P-256 one."""
    return make_credentials(tmp_path_factory.mktemp("csc") / "pki")


@pytest.fixture
def csc_server(csc_credentials: CscCredentials) -> Iterator[CscTestServer]:
    """A running CSC test server: user USERNAME/PASSWORD owning RSA_CREDENTIAL and EC_CREDENTIAL;
    confirmations are automatic and immediate until the test sets ``confirmation``."""
    with make_server(csc_credentials) as server:
        yield server


@pytest.fixture
def csc_client(csc_server: CscTestServer) -> CscClient:
    """A client for ``csc_server`` that logs in as USERNAME when first needed."""
    return CscClient(csc_server.base_url, username=USERNAME, password=PASSWORD, timeout=5)
