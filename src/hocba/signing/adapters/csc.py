"""``csc`` adapter: remote signing over the Cloud Signature Consortium API v2 (ARCHITECTURE §6).

This is the shape of VNPT SmartCA and Viettel MySign: the key lives at the service, the user
confirms each signing request on their phone, and the service signs hashes.

Calls used (CSC API v2.0.0.2, base ``{base_url}/csc/v2/``, every call a JSON ``POST``):

- ``info`` (no authentication), ``auth/login`` (HTTP Basic → ``access_token``) and ``auth/revoke``;
- ``credentials/list``, ``credentials/info`` (certificate chain, ``key/algo``, ``auth/mode``,
  ``SCAL``, ``multisign``);
- ``credentials/authorize`` with ``numSignatures``, ``hashes`` and ``hashAlgorithmOID`` (the SAD
  is bound to exactly these hashes, SCAL 2). The service answers ``200 {SAD, expiresIn}`` at once
  or ``202 {handle}`` while the user still has to confirm out of band;
- ``credentials/authorizeCheck`` with that ``handle``: ``202 {handle}`` while waiting (the next
  poll uses the handle returned, which may change), ``200 {SAD, expiresIn}`` once confirmed;
- ``signatures/signHash`` with ``credentialID``, ``SAD``, ``hashes`` and ``signAlgo``; the answer
  ``signatures`` holds the raw values in the order of ``hashes``.

The spec gives no error code for a refused or timed-out confirmation; like the OAuth device flow
(RFC 8628) we use the common error codes of the CSC spec: ``access_denied`` = refused on the phone,
``expired_token`` (HTTP 400) = the confirmation expired; an unknown ``handle`` means the request
is gone (expired). ``signHash`` reports an expired SAD as ``invalid_request`` / "SAD expired".

CSC API v1 (1.0.4.0) differs: ``hash``/``hashAlgo`` instead of ``hashes``/``hashAlgorithmOID``,
``authMode``/``PIN``/``OTP`` instead of ``auth`` objects and ``authData``, and no
``authorizeCheck`` (so a phone confirmation can only keep ``credentials/authorize`` open). This
client speaks v2 only (pyHanko 0.38's CSC signer sends the v1 names ``hash``/``hashAlgo`` even
with ``api_ver='v2'``, one reason for this module).

A batch never holds a worker for minutes: :meth:`CscClient.request_authorisation` returns at once
with a :class:`PendingAuthorisation` (a small JSON-able state), :meth:`CscClient.poll_authorisation`
raises :class:`ConfirmationPending` until the user has confirmed, and :class:`CscSigner` waits at
most ``wait_seconds`` before raising :class:`CscConfirmationPending`, whose ``state`` the batch
stores and hands to :meth:`CscSigner.resume` later, possibly in another process. The digests must
then be the same (keep the prepared PDFs; do not prepare them again).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from django.utils.translation import gettext as _

from hocba.signing.adapters import (
    ConfirmationExpired,
    ConfirmationPending,
    ConfirmationRejected,
    KeyUnavailable,
    SignerError,
    WrongPin,
    check_digests,
)

API_PREFIX = "csc/v2"
HASH_SHA256 = "2.16.840.1.101.3.4.2.1"
SIGN_RSA = "1.2.840.113549.1.1.1"  # rsaEncryption: PKCS#1 v1.5, the hash given by hashAlgorithmOID
SIGN_RSA_SHA256 = "1.2.840.113549.1.1.11"  # sha256WithRSAEncryption
SIGN_ECDSA_SHA256 = "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
OUT_OF_BAND_AUTH_TYPES = frozenset({"PasswordOOB", "ChallengeResponseOOB"})
DEFAULT_CONFIRMATION_SECONDS = 300.0  # VNPT SmartCA / Viettel MySign: about 5 minutes
DEFAULT_SAD_SECONDS = 3600.0  # CSC default when expiresIn is absent
STATE_VERSION = 1

JsonDict = dict[str, Any]


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialInfo:
    """What ``credentials/info`` says about one credential (key and certificate at the service)."""

    credential_id: str
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    key_algorithms: tuple[str, ...]  # OIDs from key/algo
    key_length: int
    key_curve: str | None
    key_enabled: bool
    auth_mode: str  # "explicit" | "oauth2code" (v1: also "implicit")
    auth_objects: tuple[JsonDict, ...]
    scal: int
    multisign: int
    description: str | None = None

    @property
    def key_type(self) -> str:
        """``rsa`` or ``ec``, from the certificate's public key."""
        return str(self.certificate.public_key.algorithm)


@dataclass(frozen=True)
class AuthorizeResult:
    """The raw answer of ``credentials/authorize``: a SAD at once, or a handle to poll."""

    sad: str | None
    expires_in: float | None
    handle: str | None


@dataclass
class PendingAuthorisation:
    """A ``credentials/authorize`` request waiting for the user's confirmation.

    ``id`` is ours and stable; ``handle`` is the service's and may change at each poll, so store
    :meth:`to_json` again after every poll. ``expires_at`` (Unix time) is when we give up waiting:
    the service does not tell, so it is ``confirmation_timeout`` after the request. Once the
    user has confirmed, ``sad`` holds the Signature Activation Data until it is used.
    """

    credential_id: str
    hashes: tuple[str, ...]  # base64 SHA-256 values, in the order asked
    handle: str | None
    requested_at: float
    expires_at: float
    service: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sad: str | None = None
    sad_expires_at: float | None = None

    @property
    def digests(self) -> list[bytes]:
        return [base64.b64decode(value) for value in self.hashes]

    def covers(self, b64_hashes: Sequence[str]) -> bool:
        """Whether this authorisation is for exactly these hashes (in any order)."""
        return Counter(self.hashes) == Counter(b64_hashes)

    def to_json(self) -> JsonDict:
        """A small JSON-able dict; holds the SAD once confirmed, so store it like a secret."""
        state: JsonDict = {
            "version": STATE_VERSION,
            "id": self.id,
            "service": self.service,
            "credential_id": self.credential_id,
            "handle": self.handle,
            "hash_algorithm": HASH_SHA256,
            "hashes": list(self.hashes),
            "requested_at": self.requested_at,
            "expires_at": self.expires_at,
        }
        if self.sad is not None:
            state["sad"] = self.sad
            state["sad_expires_at"] = self.sad_expires_at
        return state

    @classmethod
    def from_json(cls, state: Mapping[str, Any]) -> PendingAuthorisation:
        try:
            if state.get("version") != STATE_VERSION or state.get("hash_algorithm") != HASH_SHA256:
                raise ValueError("unsupported state")
            handle = state.get("handle")
            sad = state.get("sad")
            sad_expires_at = state.get("sad_expires_at")
            return cls(
                credential_id=str(state["credential_id"]),
                hashes=tuple(str(value) for value in state["hashes"]),
                handle=None if handle is None else str(handle),
                requested_at=float(state["requested_at"]),
                expires_at=float(state["expires_at"]),
                service=str(state.get("service", "")),
                id=str(state["id"]),
                sad=None if sad is None else str(sad),
                sad_expires_at=None if sad_expires_at is None else float(sad_expires_at),
            )
        except (KeyError, TypeError, ValueError):
            raise SignerError(
                _("Không đọc được trạng thái yêu cầu ký đang chờ xác nhận.")
            ) from None


class CscConfirmationPending(ConfirmationPending):
    """Still waiting for the phone; ``state`` is what to store to resume later."""

    def __init__(self, message: str, pending: PendingAuthorisation) -> None:
        super().__init__(message)
        self.pending = pending

    @property
    def state(self) -> JsonDict:
        return self.pending.to_json()


# --- HTTP client -----------------------------------------------------------------------------


class CscClient:
    """A small synchronous client for the CSC API v2 (stdlib ``urllib``, JSON over HTTP(S)).

    Give either an ``access_token`` or a ``username``/``password`` (``auth/login``, HTTP Basic);
    with a password the client logs in when needed and once more if the token has expired.
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
        confirmation_timeout: float = DEFAULT_CONFIRMATION_SECONDS,
        lang: str = "vi",
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.confirmation_timeout = confirmation_timeout
        self.lang = lang
        self._username = username
        self._password = password
        self._access_token = access_token
        self._info_cache: dict[str, CredentialInfo] = {}

    # -- service and session --

    def info(self) -> JsonDict:
        """``info``: the service's name, ``methods``, ``signAlgorithms`` ... (no authentication)."""
        return self._post("info", {"lang": self.lang}, authenticated=False)[1]

    def login(self) -> str:
        """``auth/login`` with HTTP Basic; returns and keeps the access token."""
        if self._username is None or self._password is None:
            raise SignerError(_("Chưa cấu hình tài khoản đăng nhập dịch vụ ký số từ xa."))
        basic = f"{self._username}:{self._password}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(basic).decode("ascii")}
        _status, body = self._request("auth/login", {}, headers, operation="auth/login")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise _bad_response()
        self._access_token = token
        return token

    def revoke(self) -> None:
        """``auth/revoke`` the access token (if any) and forget it."""
        token = self._access_token
        if token is None:
            return
        try:
            self._post("auth/revoke", {"token": token, "token_type_hint": "access_token"})
        finally:
            self._access_token = None

    # -- credentials --

    def credentials_list(self) -> list[str]:
        """``credentials/list``: the IDs of the user's credentials."""
        body = self._post("credentials/list", {"lang": self.lang})[1]
        ids = body.get("credentialIDs")
        if not isinstance(ids, list):
            raise _bad_response()
        return [str(value) for value in ids]

    def credentials_info(self, credential_id: str, *, refresh: bool = False) -> CredentialInfo:
        """``credentials/info`` with the certificate chain and the authorisation objects."""
        if not refresh and credential_id in self._info_cache:
            return self._info_cache[credential_id]
        request = {
            "credentialID": credential_id,
            "certificates": "chain",
            "certInfo": False,
            "authInfo": True,
            "lang": self.lang,
        }
        body = self._post("credentials/info", request)[1]
        info = _parse_credential_info(credential_id, body)
        self._info_cache[credential_id] = info
        return info

    # -- authorisation --

    def authorize(
        self,
        credential_id: str,
        hashes: Sequence[bytes],
        *,
        num_signatures: int | None = None,
        description: str | None = None,
        auth_data: Sequence[Mapping[str, str]] | None = None,
    ) -> AuthorizeResult:
        """``credentials/authorize`` for these SHA-256 hashes: a SAD at once, or a handle."""
        if auth_data is None:
            auth_data = self.default_auth_data(credential_id)
        request: JsonDict = {
            "credentialID": credential_id,
            "numSignatures": len(hashes) if num_signatures is None else num_signatures,
            "hashes": [_b64(value) for value in hashes],
            "hashAlgorithmOID": HASH_SHA256,
            "authData": [dict(item) for item in auth_data],
        }
        if description:
            request["description"] = description[:500]
        status, body = self._post("credentials/authorize", request)
        return _authorize_result(status, body)

    def authorize_check(self, handle: str) -> AuthorizeResult:
        """``credentials/authorizeCheck``: the SAD once confirmed, else (HTTP 202) a handle."""
        status, body = self._post("credentials/authorizeCheck", {"handle": handle})
        return _authorize_result(status, body)

    def default_auth_data(
        self, credential_id: str, values: Mapping[str, str] | None = None
    ) -> list[JsonDict]:
        """``authData`` from the credential's auth objects: empty objects for out-of-band ones
        (the phone confirmation), ``values[id]`` for in-band ones (PIN, OTP)."""
        info = self.credentials_info(credential_id)
        if info.auth_mode == "oauth2code":
            raise SignerError(
                _("Chứng thư số này chỉ cho phép xác nhận ký qua OAuth2, chưa được hỗ trợ.")
            )
        values = values or {}
        data: list[JsonDict] = []
        for auth_object in info.auth_objects:
            object_id = str(auth_object.get("id", ""))
            if auth_object.get("type") in OUT_OF_BAND_AUTH_TYPES:
                data.append({"id": object_id})
            elif object_id in values:
                data.append({"id": object_id, "value": values[object_id]})
        if info.auth_objects and not data:
            label = str(info.auth_objects[0].get("label") or info.auth_objects[0].get("id"))
            raise SignerError(
                _("Dịch vụ ký số yêu cầu nhập %(label)s để xác nhận ký.") % {"label": label}
            )
        return data

    def request_authorisation(
        self,
        credential_id: str,
        hashes: Sequence[bytes],
        description: str | None = None,
        *,
        auth_data: Sequence[Mapping[str, str]] | None = None,
    ) -> PendingAuthorisation:
        """Ask for one confirmation covering all these hashes; returns without waiting."""
        check_digests(hashes)
        if not hashes:
            raise ValueError("nothing to authorise")
        info = self.credentials_info(credential_id)
        if len(hashes) > info.multisign:
            raise SignerError(
                _("Dịch vụ ký số chỉ cho phép tối đa %(max)s chữ ký cho mỗi lần xác nhận.")
                % {"max": info.multisign}
            )
        requested_at = time.time()
        result = self.authorize(credential_id, hashes, description=description, auth_data=auth_data)
        pending = PendingAuthorisation(
            credential_id=credential_id,
            hashes=tuple(_b64(value) for value in hashes),
            handle=result.handle,
            requested_at=requested_at,
            expires_at=requested_at + self.confirmation_timeout,
            service=self.base_url,
        )
        if result.sad is not None:
            _store_sad(pending, result)
        return pending

    def poll_authorisation(self, pending: PendingAuthorisation) -> str:
        """The SAD once the user has confirmed; raises :class:`CscConfirmationPending` while
        waiting, :class:`ConfirmationRejected` or :class:`ConfirmationExpired`. Updates
        ``pending`` (handle, SAD) in place."""
        now = time.time()
        if pending.sad is not None:
            if pending.sad_expires_at is None or pending.sad_expires_at > now:
                return pending.sad
            raise ConfirmationExpired(_sad_expired_message())
        if pending.handle is None:
            raise ConfirmationExpired(_confirmation_expired_message())
        result = self.authorize_check(pending.handle)
        if result.sad is not None:
            _store_sad(pending, result)
            return result.sad
        pending.handle = result.handle or pending.handle
        if now >= pending.expires_at:
            raise ConfirmationExpired(_confirmation_expired_message())
        raise CscConfirmationPending(
            _("Đang chờ xác nhận ký trên điện thoại; hãy mở ứng dụng ký số để xác nhận."), pending
        )

    # -- signing --

    def sign_hash(
        self, credential_id: str, sad: str, hashes: Sequence[bytes], sign_algo: str
    ) -> list[bytes]:
        """``signatures/signHash``: the raw signature values as the service returns them."""
        check_digests(hashes)
        request: JsonDict = {
            "credentialID": credential_id,
            "SAD": sad,
            "hashes": [_b64(value) for value in hashes],
            "signAlgo": sign_algo,
        }
        if sign_algo == SIGN_RSA:
            # only when signAlgo does not imply the hash (CSC v2 signHash: else omitted or ignored)
            request["hashAlgorithmOID"] = HASH_SHA256
        body = self._post("signatures/signHash", request)[1]
        values = body.get("signatures")
        if not isinstance(values, list) or len(values) != len(hashes):
            raise _bad_response()
        try:
            return [base64.b64decode(str(value), validate=True) for value in values]
        except (binascii.Error, ValueError):
            raise _bad_response() from None

    # -- transport --

    def _post(
        self, method: str, body: Mapping[str, Any], *, authenticated: bool = True
    ) -> tuple[int, JsonDict]:
        if not authenticated:
            return self._request(method, body, {}, operation=method)
        if self._access_token is None:
            self.login()
        try:
            return self._request(method, body, self._bearer(), operation=method)
        except _TokenRejected:
            if self._password is None:
                raise SignerError(_token_message()) from None
        self.login()
        try:
            return self._request(method, body, self._bearer(), operation=method)
        except _TokenRejected:
            raise SignerError(_token_message()) from None

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}"}

    def _request(
        self,
        method: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        operation: str,
    ) -> tuple[int, JsonDict]:
        url = f"{self.base_url}/{API_PREFIX}/{method}"
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = int(response.status)
                raw = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            _raise_for_error(error.code, _json_or_empty(raw), operation)
            raise AssertionError("unreachable") from None  # _raise_for_error always raises
        except (TimeoutError, http.client.HTTPException, OSError) as error:
            raise _unreachable(error, self.base_url) from None
        if status == 204 or not raw:
            return status, {}
        parsed = _json_or_empty(raw)
        if not parsed:
            raise _bad_response()
        return status, parsed


class _TokenRejected(Exception):
    """The access token is missing, invalid or expired (HTTP 401); the client may log in again."""


# --- the adapter -----------------------------------------------------------------------------


class CscSigner:
    """One remote credential as a :class:`~hocba.signing.adapters.SignerAdapter`.

    ``sign_digests`` asks for one confirmation covering every digest of the call, waits for it at
    most ``wait_seconds`` (polling every ``poll_interval``), then signs them all with one
    ``signatures/signHash``. If the user has not confirmed in time it raises
    :class:`CscConfirmationPending`; call ``sign_digests`` again with the same digests (same
    signer, or :meth:`resume` from the stored ``state`` in another process) to continue.
    Every value returned is checked against the certificate's public key.
    """

    kind: ClassVar[str] = "csc"

    def __init__(
        self,
        client: CscClient,
        credential_id: str,
        *,
        sad: str | None = None,
        sad_digests: Sequence[bytes] | None = None,
        pending: PendingAuthorisation | Mapping[str, Any] | None = None,
        wait_seconds: float = 20.0,
        poll_interval: float = 2.0,
        description: str | None = None,
    ) -> None:
        self._client = client
        self._credential_id = credential_id
        self.wait_seconds = wait_seconds
        self.poll_interval = poll_interval
        self.description = description
        self._info = client.credentials_info(credential_id)
        if not self._info.key_enabled:
            raise SignerError(
                _("Khoá ký của chứng thư số này đang bị khoá trên dịch vụ ký số từ xa.")
            )
        self._sign_algo = _choose_sign_algo(self._info)
        self._public_key = _public_key(self._info.certificate)
        self._sad = sad
        self._sad_hashes = None if sad_digests is None else tuple(_b64(d) for d in sad_digests)
        if pending is not None and not isinstance(pending, PendingAuthorisation):
            pending = PendingAuthorisation.from_json(pending)
        if pending is not None:
            if pending.credential_id != credential_id:
                raise SignerError(_("Yêu cầu ký đang chờ thuộc về một chứng thư số khác."))
            if pending.service and pending.service != client.base_url:
                raise SignerError(_("Yêu cầu ký đang chờ thuộc về một dịch vụ ký số khác."))
        self._pending: PendingAuthorisation | None = pending

    @classmethod
    def resume(cls, client: CscClient, state: Mapping[str, Any], **options: Any) -> CscSigner:
        """A signer that continues the pending authorisation stored as ``state``."""
        pending = PendingAuthorisation.from_json(state)
        return cls(client, pending.credential_id, pending=pending, **options)

    @property
    def credential(self) -> CredentialInfo:
        return self._info

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self._info.certificate

    @property
    def chain(self) -> Sequence[asn1_x509.Certificate]:
        return self._info.chain

    @property
    def max_batch(self) -> int:
        """How many digests one confirmation may cover (``multisign``)."""
        return self._info.multisign

    @property
    def pending(self) -> PendingAuthorisation | None:
        return self._pending

    @property
    def pending_state(self) -> JsonDict | None:
        return None if self._pending is None else self._pending.to_json()

    def sign_digests(self, digests: Sequence[bytes]) -> list[bytes]:
        check_digests(digests)
        if not digests:
            return []
        b64_hashes = [_b64(digest) for digest in digests]
        sad = self._take_sad(b64_hashes)
        if sad is None:
            sad = self._authorised_sad(digests, b64_hashes)
        try:
            values = self._client.sign_hash(self._credential_id, sad, digests, self._sign_algo)
        except (ConfirmationExpired, ConfirmationRejected):
            self._pending = None
            raise
        self._pending = None  # the SAD covered exactly these signatures: it is used up
        return [self._checked(digest, value) for digest, value in zip(digests, values, strict=True)]

    def discard_pending(self) -> None:
        """Forget the pending authorisation (the next call asks the user again)."""
        self._pending = None

    def close(self) -> None:
        self._sad = None
        self._sad_hashes = None
        self._pending = None

    # -- internals --

    def _take_sad(self, b64_hashes: Sequence[str]) -> str | None:
        sad, covered = self._sad, self._sad_hashes
        self._sad = self._sad_hashes = None
        if sad is not None and (covered is None or Counter(covered) == Counter(b64_hashes)):
            return sad
        return None

    def _authorised_sad(self, digests: Sequence[bytes], b64_hashes: Sequence[str]) -> str:
        pending = self._pending
        if pending is None:
            if len(digests) > self._info.multisign:
                raise SignerError(
                    _("Dịch vụ ký số chỉ cho phép tối đa %(max)s chữ ký cho mỗi lần xác nhận.")
                    % {"max": self._info.multisign}
                )
            pending = self._client.request_authorisation(
                self._credential_id, digests, self.description
            )
            self._pending = pending
        elif not pending.covers(b64_hashes):
            raise SignerError(
                _(
                    "Dữ liệu cần ký khác với yêu cầu đang chờ xác nhận; hãy huỷ yêu cầu cũ "
                    "và gửi yêu cầu mới."
                )
            )
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                return self._client.poll_authorisation(pending)
            except ConfirmationPending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                time.sleep(min(self.poll_interval, remaining))
            except (ConfirmationExpired, ConfirmationRejected):
                self._pending = None
                raise

    def _checked(self, digest: bytes, value: bytes) -> bytes:
        key = self._public_key
        prehashed = utils.Prehashed(hashes.SHA256())
        try:
            if isinstance(key, rsa.RSAPublicKey):
                size = (key.key_size + 7) // 8
                if len(value) < size:  # some services drop leading zero bytes
                    value = value.rjust(size, b"\x00")
                key.verify(value, digest, padding.PKCS1v15(), prehashed)
                return value
            value = ecdsa_der(value, key.curve.key_size)
            key.verify(value, digest, ec.ECDSA(prehashed))
            return value
        except (InvalidSignature, ValueError):
            raise SignerError(
                _("Chữ ký do dịch vụ ký số từ xa trả về không khớp với chứng thư số.")
            ) from None


def ecdsa_der(value: bytes, curve_bits: int) -> bytes:
    """An ECDSA value as DER ``ECDSA-Sig-Value``: kept if it already is, converted from the
    IEEE P1363 ``r || s`` form otherwise (the CSC spec does not fix the format)."""
    try:
        r, s = utils.decode_dss_signature(value)
    except ValueError:
        pass
    else:
        if utils.encode_dss_signature(r, s) == value:
            return value
    size = (curve_bits + 7) // 8
    if len(value) != 2 * size:
        raise ValueError("not an ECDSA signature value")
    r = int.from_bytes(value[:size], "big")
    s = int.from_bytes(value[size:], "big")
    return utils.encode_dss_signature(r, s)


# --- helpers ---------------------------------------------------------------------------------


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _json_or_empty(raw: bytes) -> JsonDict:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _authorize_result(status: int, body: JsonDict) -> AuthorizeResult:
    if status == 202:
        handle = body.get("handle")
        if not isinstance(handle, str) or not handle:
            raise _bad_response()
        return AuthorizeResult(sad=None, expires_in=None, handle=handle)
    sad = body.get("SAD")
    if not isinstance(sad, str) or not sad:
        raise _bad_response()
    expires_in = body.get("expiresIn", DEFAULT_SAD_SECONDS)
    if not isinstance(expires_in, int | float):
        raise _bad_response()
    return AuthorizeResult(sad=sad, expires_in=float(expires_in), handle=None)


def _store_sad(pending: PendingAuthorisation, result: AuthorizeResult) -> None:
    pending.sad = result.sad
    lifetime = DEFAULT_SAD_SECONDS if result.expires_in is None else result.expires_in
    pending.sad_expires_at = time.time() + lifetime


def _parse_credential_info(credential_id: str, body: JsonDict) -> CredentialInfo:
    try:
        certificates = [
            asn1_x509.Certificate.load(base64.b64decode(value, validate=True))
            for value in body["cert"]["certificates"]
        ]
        if not certificates:
            raise ValueError("no certificate")
        certificates[0].public_key.algorithm  # noqa: B018 (parse now, fail here)
        key = body["key"]
        auth = body.get("auth") or {}
        objects = auth.get("objects") or []
        if isinstance(objects, dict):  # a sample in the spec shows an object, not an array
            objects = list(objects.values())
        curve = key.get("curve")
        return CredentialInfo(
            credential_id=credential_id,
            certificate=certificates[0],
            chain=tuple(certificates[1:]),
            key_algorithms=tuple(str(oid) for oid in key["algo"]),
            key_length=int(key["len"]),
            key_curve=None if curve is None else str(curve),
            key_enabled=key.get("status", "enabled") == "enabled",
            auth_mode=str(auth.get("mode") or body.get("authMode") or "explicit"),
            auth_objects=tuple(dict(item) for item in objects),
            scal=int(body.get("SCAL", 1)),
            multisign=int(body.get("multisign", 1)),
            description=body.get("description"),
        )
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
        raise _bad_response() from None


def _choose_sign_algo(info: CredentialInfo) -> str:
    algorithms = set(info.key_algorithms)
    if info.key_type == "rsa":
        if SIGN_RSA_SHA256 in algorithms:
            return SIGN_RSA_SHA256
        if SIGN_RSA in algorithms:
            return SIGN_RSA
    elif info.key_type == "ec" and SIGN_ECDSA_SHA256 in algorithms:
        return SIGN_ECDSA_SHA256
    raise SignerError(
        _(
            "Chứng thư số trên dịch vụ ký số từ xa dùng thuật toán không được hỗ trợ "
            "(chỉ RSA hoặc ECDSA với SHA-256)."
        )
    )


def _public_key(certificate: asn1_x509.Certificate) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    key = x509.load_der_x509_certificate(certificate.dump()).public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise SignerError(
            _("Chứng thư số trên dịch vụ ký số từ xa không dùng khoá RSA hoặc ECDSA.")
        )
    return key


def _bad_response() -> SignerError:
    return SignerError(_("Dịch vụ ký số từ xa trả về dữ liệu không hợp lệ."))


def _token_message() -> str:
    return _("Phiên đăng nhập dịch vụ ký số từ xa đã hết hạn hoặc không hợp lệ; hãy đăng nhập lại.")


def _sad_expired_message() -> str:
    return _("Phiên xác nhận ký đã hết hạn; hãy xác nhận lại trên điện thoại.")


def _confirmation_expired_message() -> str:
    return _("Yêu cầu ký đã hết hạn vì không được xác nhận kịp thời; hãy gửi lại yêu cầu.")


def _unreachable(error: BaseException, base_url: str) -> KeyUnavailable:
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return KeyUnavailable(_("Dịch vụ ký số từ xa không phản hồi kịp thời."))
    host = urllib.parse.urlsplit(base_url).netloc
    return KeyUnavailable(_("Không kết nối được dịch vụ ký số từ xa %(host)s.") % {"host": host})


def _raise_for_error(status: int, body: JsonDict, operation: str) -> None:
    """Map a CSC error (HTTP status + ``{"error", "error_description"}``) to our errors."""
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    text = description.lower()
    if operation == "auth/login" and (status == 401 or error == "authentication_error"):
        raise WrongPin(_("Tên đăng nhập hoặc mật khẩu của dịch vụ ký số từ xa không đúng."))
    if status == 401 or (error in ("invalid_token", "expired_token") and status != 400):
        raise _TokenRejected(description)
    if status == 429 or (status >= 500 and status != 501):
        raise KeyUnavailable(
            _("Dịch vụ ký số từ xa tạm thời không khả dụng (mã lỗi HTTP %(status)s).")
            % {"status": status}
        )
    if status == 501 or status == 404:
        raise SignerError(
            _("Dịch vụ ký số từ xa không hỗ trợ chức năng %(method)s.") % {"method": operation}
        )
    if error == "access_denied":
        raise ConfirmationRejected(_("Yêu cầu ký đã bị từ chối trên điện thoại."))
    if error == "expired_token" or (operation == "credentials/authorizeCheck" and "handle" in text):
        raise ConfirmationExpired(_confirmation_expired_message())
    if error == "invalid_authentication_data" or error == "invalid_otp":
        raise WrongPin(_("Mã PIN hoặc mã OTP xác nhận ký không đúng."))
    if "sad expired" in text:
        raise ConfirmationExpired(_sad_expired_message())
    if "invalid parameter sad" in text:
        raise ConfirmationExpired(
            _("Phiên xác nhận ký không còn hiệu lực; hãy xác nhận lại trên điện thoại.")
        )
    if "not authorized by the sad" in text:
        raise SignerError(
            _("Dịch vụ ký số từ chối: dữ liệu cần ký không nằm trong yêu cầu đã được xác nhận.")
        )
    if "parameter credentialid" in text:
        raise SignerError(_("Dịch vụ ký số từ xa không tìm thấy chứng thư số đã chọn."))
    if "disabled" in text:
        raise SignerError(_("Khoá ký của chứng thư số này đang bị khoá trên dịch vụ ký số từ xa."))
    if "locked" in text:
        raise SignerError(_("Chứng thư số đã bị khoá do xác thực sai nhiều lần."))
    if "too high" in text:
        raise SignerError(_("Số chữ ký yêu cầu vượt quá giới hạn của dịch vụ ký số."))
    if "certificate is expired" in text:
        raise SignerError(_("Chứng thư số trên dịch vụ ký số từ xa đã hết hạn."))
    raise SignerError(
        _("Dịch vụ ký số từ xa báo lỗi: %(description)s")
        % {"description": description or error or status}
    )
