"""``pkcs11`` adapter: a USB token or an HSM behind a PKCS#11 module (tested with SoftHSM2).

The token is chosen by its label (never by slot number: SoftHSM renumbers slots and always adds an
empty one), the adapter logs in once and then signs any number of digests; :meth:`close` logs out.
RSA keys sign the DER ``DigestInfo`` with ``CKM_RSA_PKCS``; EC keys sign the bare digest with
``CKM_ECDSA`` and the ``r || s`` output is turned into a DER ``ECDSA-Sig-Value``. Every signature
is checked against the certificate before it is handed out, so a wrong certificate on the token or
a faulty token stops the batch instead of producing documents that fail validation.

Processes and logins (PKCS#11 semantics, not ours):

- A login belongs to the whole process, per token: two sessions on one token share it, and a
  logout in one logs the other out. A second login is refused without even checking the PIN. So
  this process allows one open adapter per token at a time; a second one is refused as busy.
- A module loaded before ``fork()`` must be initialised again in the child, and sessions opened
  in the parent are unusable there. Each worker process makes its own adapter; an adapter made in
  another process refuses to sign, and the module is re-initialised on first use in a child.
- Some modules (SoftHSM) only see tokens created or re-created after they were loaded once they
  are initialised again. When a token is not found and no adapter of this process has a session
  open on the module, the module is re-initialised and the look-up retried (see
  :func:`refresh_tokens`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pkcs11
from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from django.utils.translation import gettext as _
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11

from hocba.signing.adapters import KeyUnavailable, SignerError, WrongPin, check_digests

MODULE_ENV = "HOCBA_PKCS11_MODULE"
# OpenSC first (real tokens and smart cards), then SoftHSM (tests, demo); multiarch-aware.
MODULE_CANDIDATES = (
    "/usr/lib/*-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/*-linux-gnu/pkcs11/opensc-pkcs11.so",
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

# Errors meaning the token, its session or its login went away: plug it back and resume.
_TOKEN_GONE: tuple[type[p11.PKCS11Error], ...] = (
    p11.DeviceError,
    p11.DeviceMemory,
    p11.DeviceRemoved,
    p11.GeneralError,
    p11.KeyHandleInvalid,
    p11.ObjectHandleInvalid,
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.SlotIDInvalid,
    p11.TokenNotPresent,
    p11.TokenNotRecognised,
    p11.UserNotLoggedIn,
)
_WRONG_PIN: tuple[type[p11.PKCS11Error], ...] = (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange)


def default_module_path() -> str | None:
    """``$HOCBA_PKCS11_MODULE`` if set, else the first OpenSC or SoftHSM module installed."""
    configured = os.environ.get(MODULE_ENV, "").strip()
    if configured:
        return configured
    for pattern in MODULE_CANDIDATES:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                return path
    return None


@dataclass(frozen=True)
class TokenCertificate:
    """A certificate on a token that has its private key there too (enrolment from a token)."""

    label: str  # the certificate object's CKA_LABEL, as token tools show it
    key_id: bytes  # CKA_ID shared by the certificate and its key: pass it as ``key_id``
    certificate: asn1_x509.Certificate


@dataclass
class _LoadedModule:
    library: Any  # pkcs11._pkcs11.lib
    pid: int
    sessions: int = 0  # sessions our adapters and look-ups hold open on this module
    busy_tokens: set[bytes] = field(default_factory=set)  # serials with a login of ours


_MODULES: dict[str, _LoadedModule] = {}
_LOCK = threading.RLock()


def refresh_tokens(module_path: str) -> None:
    """Initialise the module again so it sees tokens added or re-created since it was loaded.

    Refused while an adapter of this process has a session open on the module: re-initialising
    closes every session of the process.
    """
    with _LOCK:
        loaded = _module(module_path)
        if loaded.sessions:
            raise SignerError(
                _("Không thể nạp lại thư viện PKCS#11 khi đang có phiên ký mở trên thiết bị.")
            )
        _restart(loaded)


def list_token_certificates(
    *, module_path: str, token_label: str, pin: str | None = None
) -> list[TokenCertificate]:
    """Certificates on the token that have a matching key (same CKA_ID, or same label).

    Private keys are usually hidden until login: without a PIN a public key with the same ID
    counts as the proof that the key pair is on the token.
    """
    with _LOCK:
        loaded = _module(module_path)
        token = _find_token(loaded, token_label)
        session = _open_session(loaded, token, token_label, pin)
        try:
            return _certificates_with_keys(session, include_public_keys=pin is None)
        except p11.PKCS11Error:
            raise KeyUnavailable(_token_lost_message(token_label)) from None
        finally:
            _release(loaded, session, token.serial if pin is not None else None)


class Pkcs11Signer:
    """One key on a PKCS#11 token, logged in once; use it from one thread, in one process."""

    kind: ClassVar[str] = "pkcs11"

    def __init__(
        self,
        *,
        module_path: str,
        token_label: str,
        pin: str,
        key_label: str | None = None,
        key_id: bytes | None = None,
        chain: Sequence[asn1_x509.Certificate] = (),
    ) -> None:
        self._token_label = token_label
        self._chain = tuple(chain)
        self._pid = os.getpid()
        self._session: Any = None
        with _LOCK:
            self._module = _module(module_path)
            token = _find_token(self._module, token_label)
            self._serial: bytes = token.serial
            self._session = _open_session(self._module, token, token_label, pin)
        try:
            self._key = _private_key(self._session, token_label, key_label, key_id)
            self._certificate = _certificate_for(self._session, self._key, token_label)
            self._is_rsa = _is_rsa_key(self._key, self._certificate, token_label)
            self._pin = pin if _always_authenticate(self._key) else None
            self._public_key = serialization.load_der_public_key(
                self._certificate.public_key.dump()
            )
        except p11.PKCS11Error:
            self.close()
            raise KeyUnavailable(_token_lost_message(token_label)) from None
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> Sequence[asn1_x509.Certificate]:
        return self._chain

    def sign_digests(self, digests: Sequence[bytes]) -> list[bytes]:
        check_digests(digests)
        if os.getpid() != self._pid:
            raise SignerError(
                _(
                    "Phiên ký trên thiết bị được mở trong một tiến trình khác; "
                    "mỗi tiến trình phải tự mở phiên ký của mình."
                )
            )
        if self._session is None:
            raise SignerError(_("Phiên ký trên thiết bị đã đóng; hãy nhập lại mã PIN."))
        try:
            signatures = [self._sign_one(digest) for digest in digests]
        except _TOKEN_GONE:
            self.close()
            raise KeyUnavailable(_token_lost_message(self._token_label)) from None
        except _WRONG_PIN:  # a key that asks for the PIN again on every signature
            raise WrongPin(
                _("Mã PIN của thiết bị ký “%(label)s” không đúng.") % {"label": self._token_label}
            ) from None
        except p11.PKCS11Error as error:
            raise SignerError(
                _("Thiết bị ký “%(label)s” báo lỗi %(error)s khi ký.")
                % {"label": self._token_label, "error": type(error).__name__}
            ) from None
        for digest, signature in zip(digests, signatures, strict=True):
            self._verify(digest, signature)
        return signatures

    def close(self) -> None:
        session, self._session = self._session, None
        self._pin = None
        if session is None or os.getpid() != self._pid:
            return  # never log out a login that belongs to the parent process
        with _LOCK:
            _release(self._module, session, self._serial)

    def _sign_one(self, digest: bytes) -> bytes:
        extra = {} if self._pin is None else {"pin": self._pin}
        if self._is_rsa:
            data = SHA256_DIGEST_INFO_PREFIX + digest
            return bytes(self._key.sign(data, mechanism=Mechanism.RSA_PKCS, **extra))
        raw = bytes(self._key.sign(digest, mechanism=Mechanism.ECDSA, **extra))
        return bytes(algos.DSASignature.from_p1363(raw).dump())

    def _verify(self, digest: bytes, signature: bytes) -> None:
        prehashed = utils.Prehashed(hashes.SHA256())
        key = self._public_key
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, digest, padding.PKCS1v15(), prehashed)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, digest, ec.ECDSA(prehashed))
        except InvalidSignature:
            raise SignerError(
                _("Chữ ký do thiết bị “%(label)s” tạo ra không khớp với chứng thư số của khoá.")
                % {"label": self._token_label}
            ) from None


# --- module, token, session ---------------------------------------------------------------------


def _module(module_path: str) -> _LoadedModule:
    # One spelling per file: python-pkcs11 caches modules by path string, and a second spelling
    # of a loaded module (a symlink) fails in C_Initialize ("already initialized").
    path = os.path.realpath(module_path)
    if not os.path.isfile(path):
        raise KeyUnavailable(
            _(
                "Không tìm thấy thư viện PKCS#11 của thiết bị ký tại %(path)s. "
                "Hãy cài trình điều khiển của USB token hoặc HSM."
            )
            % {"path": module_path}
        )
    with _LOCK:
        loaded = _MODULES.get(path)
        if loaded is not None and loaded.pid != os.getpid():
            # Forked child: the parent's sessions and login are not ours to use or end.
            loaded = _MODULES[path] = _LoadedModule(loaded.library, os.getpid())
            _restart(loaded)
        if loaded is None:
            try:
                library = pkcs11.lib(path)
            except (p11.PKCS11Error, OSError):
                raise KeyUnavailable(
                    _("Không nạp được thư viện PKCS#11 %(path)s của thiết bị ký.")
                    % {"path": module_path}
                ) from None
            loaded = _MODULES[path] = _LoadedModule(library, os.getpid())
        return loaded


def _restart(loaded: _LoadedModule) -> None:
    with contextlib.suppress(p11.PKCS11Error):
        loaded.library.finalize()
    try:
        loaded.library.initialize()
    except p11.PKCS11Error:
        raise KeyUnavailable(
            _("Không khởi động lại được thư viện PKCS#11 %(path)s.") % {"path": loaded.library.so}
        ) from None
    loaded.busy_tokens.clear()


def _find_token(loaded: _LoadedModule, label: str) -> Any:
    for attempt in (1, 2):
        try:
            return loaded.library.get_token(token_label=label)
        except p11.MultipleTokensReturned:
            raise SignerError(
                _("Có nhiều thiết bị ký cùng nhãn “%(label)s”; hãy chỉ cắm một thiết bị.")
                % {"label": label}
            ) from None
        except p11.PKCS11Error:
            if attempt == 2 or loaded.sessions:
                break
            _restart(loaded)  # the token may have been plugged in (or re-created) since loading
    raise KeyUnavailable(
        _("Không tìm thấy thiết bị ký “%(label)s”. Hãy cắm thiết bị vào máy rồi thử lại.")
        % {"label": label}
    )


def _open_session(loaded: _LoadedModule, token: Any, label: str, pin: str | None) -> Any:
    """A session on the token, logged in when a PIN is given; counted until :func:`_release`."""
    if pin is not None and token.serial in loaded.busy_tokens:
        raise SignerError(_busy_message(label))
    if pin is not None and token.flags & TokenFlag.USER_PIN_LOCKED:
        raise WrongPin(_locked_message(label))
    try:
        session = token.open() if pin is None else token.open(user_pin=pin)
    except p11.UserAlreadyLoggedIn:
        # Someone else in this process holds a login; the PIN was not even checked.
        raise SignerError(_busy_message(label)) from None
    except p11.PinLocked:
        raise WrongPin(_locked_message(label)) from None
    except p11.PinExpired:
        raise WrongPin(
            _(
                "Mã PIN của thiết bị ký “%(label)s” đã hết hạn. "
                "Hãy đổi mã PIN bằng phần mềm quản lý đi kèm thiết bị."
            )
            % {"label": label}
        ) from None
    except _WRONG_PIN:
        raise WrongPin(_wrong_pin_message(loaded, label)) from None
    except p11.PKCS11Error:
        raise KeyUnavailable(_token_lost_message(label)) from None
    loaded.sessions += 1
    if pin is not None:
        loaded.busy_tokens.add(token.serial)
    return session


def _release(loaded: _LoadedModule, session: Any, serial: bytes | None) -> None:
    """Log out (when logged in) and close; the token may be gone already."""
    with contextlib.suppress(p11.PKCS11Error):
        session.close()
    loaded.sessions = max(0, loaded.sessions - 1)
    if serial is not None:
        loaded.busy_tokens.discard(serial)


# --- objects on the token -----------------------------------------------------------------------


def _private_key(session: Any, token_label: str, label: str | None, key_id: bytes | None) -> Any:
    template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
    if label is not None:
        template[Attribute.LABEL] = label
    if key_id is not None:
        template[Attribute.ID] = key_id
    keys = list(session.get_objects(template))
    names = {"key": _describe_key(label, key_id), "label": token_label}
    if not keys:
        raise SignerError(_("Không tìm thấy khoá “%(key)s” trên thiết bị ký “%(label)s”.") % names)
    if len(keys) > 1:
        raise SignerError(
            _("Thiết bị ký “%(label)s” có nhiều khoá khớp với “%(key)s”; hãy chọn khoá theo ID.")
            % names
        )
    return keys[0]


def _certificate_for(session: Any, key: Any, token_label: str) -> asn1_x509.Certificate:
    key_id, key_label = bytes(key[Attribute.ID] or b""), key[Attribute.LABEL]
    match = {Attribute.ID: key_id} if key_id else {Attribute.LABEL: key_label}
    certificates = [
        certificate
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, **match})
        if (certificate := _x509(obj)) is not None
    ]
    if not certificates:
        raise SignerError(
            _("Thiết bị ký “%(label)s” không có chứng thư số đi kèm khoá “%(key)s”.")
            % {"label": token_label, "key": _describe_key(key_label, key_id or None)}
        )
    # A renewed certificate for the same key: the newest one.
    return max(certificates, key=lambda certificate: certificate.not_valid_before)


def _is_rsa_key(key: Any, certificate: asn1_x509.Certificate, token_label: str) -> bool:
    """True for RSA, False for EC; refuses a key whose type differs from the certificate's."""
    key_type, algorithm = key.key_type, certificate.public_key.algorithm
    if key_type == KeyType.RSA and algorithm == "rsa":
        return True
    if key_type == KeyType.EC and algorithm == "ec":
        return False
    raise SignerError(
        _("Khoá trên thiết bị ký “%(label)s” không phải RSA hoặc ECDSA khớp với chứng thư số.")
        % {"label": token_label}
    )


def _always_authenticate(key: Any) -> bool:
    """Keys marked CKA_ALWAYS_AUTHENTICATE want the PIN again for every signature."""
    try:
        return bool(key[Attribute.ALWAYS_AUTHENTICATE])
    except p11.PKCS11Error:
        return False


def _certificates_with_keys(session: Any, *, include_public_keys: bool) -> list[TokenCertificate]:
    classes = [ObjectClass.PRIVATE_KEY] + ([ObjectClass.PUBLIC_KEY] if include_public_keys else [])
    ids, labels = set(), set()
    for object_class in classes:
        for key in session.get_objects({Attribute.CLASS: object_class}):
            ids.add(bytes(key[Attribute.ID] or b""))
            labels.add(key[Attribute.LABEL])
    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        certificate = _x509(obj)
        key_id, label = bytes(obj[Attribute.ID] or b""), obj[Attribute.LABEL]
        if certificate is not None and ((key_id and key_id in ids) or (label and label in labels)):
            found.append(TokenCertificate(label=label, key_id=key_id, certificate=certificate))
    return sorted(found, key=lambda entry: (entry.label, entry.key_id))


def _x509(obj: Any) -> asn1_x509.Certificate | None:
    if obj[Attribute.CERTIFICATE_TYPE] != CertificateType.X_509:
        return None
    try:
        certificate = asn1_x509.Certificate.load(bytes(obj[Attribute.VALUE]))
        certificate.native  # noqa: B018  (parse it all now: a broken object is skipped)
    except ValueError:
        return None
    return certificate


# --- messages -----------------------------------------------------------------------------------


def _describe_key(label: str | None, key_id: bytes | None) -> str:
    parts = ([label] if label else []) + ([f"ID {key_id.hex()}"] if key_id else [])
    return ", ".join(parts) or _("khoá ký duy nhất")


def _token_lost_message(label: str) -> str:
    return _(
        "Mất kết nối với thiết bị ký “%(label)s” (thiết bị đã bị rút ra?). "
        "Hãy cắm lại thiết bị rồi tiếp tục lượt ký."
    ) % {"label": label}


def _busy_message(label: str) -> str:
    return _(
        "Thiết bị ký “%(label)s” đang được dùng cho một lượt ký khác trong tiến trình này. "
        "Hãy đợi lượt ký đó kết thúc rồi thử lại."
    ) % {"label": label}


def _locked_message(label: str) -> str:
    return _(
        "Mã PIN của thiết bị ký “%(label)s” đã bị khoá do nhập sai quá nhiều lần. "
        "Hãy mở khoá mã PIN bằng phần mềm quản lý đi kèm thiết bị rồi thử lại."
    ) % {"label": label}


def _wrong_pin_message(loaded: _LoadedModule, label: str) -> str:
    message = _("Mã PIN của thiết bị ký “%(label)s” không đúng.") % {"label": label}
    try:
        flags = loaded.library.get_token(token_label=label).flags
    except p11.PKCS11Error:
        return message
    if flags & TokenFlag.USER_PIN_LOCKED:
        return _locked_message(label)
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return message + " " + _("Nếu nhập sai thêm một lần nữa, mã PIN sẽ bị khoá.")
    return message
