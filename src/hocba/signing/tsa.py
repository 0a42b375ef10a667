"""RFC 3161 timestamps: the client for the configured TSA, and the demo TSA over HTTP.

Production deployments set ``HOCBA_TSA_URL`` to their trust service's timestamp URL. The demo
and the tests run their own authority with the demo PKI's TSA certificate, answering RFC 3161
requests over HTTP on loopback (``/pki/tsa`` of the demo server, or :func:`serve` in a thread):
pyHanko only ships an in-process test timestamper, and signing should go through the same HTTP
path in the demo as in production.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hocba.signing.adapters import KeyUnavailable

TSA_CONTENT_TYPE = "application/timestamp-reply"
MAX_REQUEST_BYTES = 16 * 1024


def configured_timestamper() -> TimeStamper:
    """The timestamper for ``settings.TSA_URL``; refuses to sign without one."""
    url = getattr(settings, "TSA_URL", "")
    if not url:
        raise KeyUnavailable(
            _(
                "Chưa cấu hình dịch vụ cấp dấu thời gian (HOCBA_TSA_URL): mỗi chữ ký số cần "
                "một dấu thời gian."
            )
        )
    return HTTPTimeStamper(url, timeout=getattr(settings, "TSA_TIMEOUT", 10))


class _Stamper(DummyTimeStamper):
    """pyHanko's test timestamper signs with RSA only; the demo TSA key is ECDSA P-256."""

    _key: Any = None
    _signing_certificate: bytes | None = None

    def _private_key(self) -> Any:
        """The TSA key parsed once (not for every request)."""
        if self._key is None:
            self._key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        return self._key

    def _signing_certificate_attribute(self) -> cms.CMSAttribute:
        """The same for every token: built once (about 4 ms of asn1crypto), then reloaded."""
        if self._signing_certificate is None:
            attribute = simple_cms_attribute(
                "signing_certificate", general.as_signing_certificate(self.tsa_cert)
            )
            self._signing_certificate = attribute.dump()
        return cms.CMSAttribute.load(self._signing_certificate)

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        key = self._private_key()
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return super()._sign_tst_info(tst_info_data, md_algorithm, dt)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                self._signing_certificate_attribute(),
                simple_cms_attribute(
                    "message_digest", hashlib.new(md_algorithm, tst_info_data).digest()
                ),
            ]
        )
        return key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256())), signed_attrs

    def _build_signed_data(
        self,
        tst_info_data: bytes,
        md_algorithm: str,
        signature: bytes,
        signed_attrs: cms.CMSAttributes,
    ) -> dict[str, Any]:
        signed_data: dict[str, Any] = super()._build_signed_data(
            tst_info_data, md_algorithm, signature, signed_attrs
        )
        if self.tsa_cert.public_key.algorithm == "ec":
            signer_info = signed_data["signer_infos"][0]
            signer_info["signature_algorithm"] = algos.SignedDigestAlgorithm(
                {"algorithm": "sha256_ecdsa"}
            )
        return signed_data


@dataclass(frozen=True)
class DemoTsa:
    """A timestamp authority answering with a key from a file (demo and tests only)."""

    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    _stamper: DummyTimeStamper

    @classmethod
    def from_files(cls, cert: Path, key: Path, chain: tuple[Path, ...] = ()) -> DemoTsa:
        certificate = load_cert_from_pemder(str(cert))
        chain_certs = tuple(load_cert_from_pemder(str(path)) for path in chain)
        stamper = _Stamper(
            tsa_cert=certificate,
            tsa_key=load_private_key_from_pemder(str(key), passphrase=None),
            certs_to_embed=SimpleCertificateStore.from_certs(chain_certs),
        )
        return cls(certificate, chain_certs, stamper)

    def respond(self, request_der: bytes) -> bytes:
        """The DER TimeStampResp for a DER TimeStampReq; a rejection for a malformed one."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            request.native  # noqa: B018 — parse it fully now, not halfway through answering
        except (ValueError, TypeError):
            rejection = tsp.TimeStampResp(
                {
                    "status": tsp.PKIStatusInfo(
                        {
                            "status": "rejection",
                            "fail_info": tsp.PKIFailureInfo({"bad_data_format"}),
                        }
                    )
                }
            )
            return rejection.dump()
        return self._stamper.request_tsa_response(request).dump()


class _Handler(BaseHTTPRequestHandler):
    tsa: DemoTsa
    # Keep-alive: a signing batch sends its requests over a few kept connections (every answer
    # carries its Content-Length), not one connection and one server thread per timestamp.
    protocol_version = "HTTP/1.1"
    # The headers and the token leave in two writes; with Nagle on, the second waits for the
    # client's delayed ACK (40 ms on Linux) on a kept connection.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_REQUEST_BYTES:
            self.send_error(400, "bad request size")
            return
        answer = self.tsa.respond(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", TSA_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a batch opening a dozen connections at once
    # sees SYNs dropped and retried a second later.
    request_queue_size = 128


@contextmanager
def serve(tsa: DemoTsa, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``tsa`` over HTTP in a background thread; yields its URL."""
    handler = type("TsaHandler", (_Handler,), {"tsa": tsa})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-tsa", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
