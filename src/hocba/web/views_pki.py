"""The demo PKI's services over HTTP (issue 5 §1, §4): its CRL and its timestamp authority.

Only ``hocba demo`` turns these on (``HOCBA_DEMO_PKI_SERVICES``); a production deployment uses
its CA's CRL and OCSP and a real TSA, and these URLs answer 404.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from hocba.signing import demo
from hocba.signing.pki import fresh_crl
from hocba.signing.tsa import MAX_REQUEST_BYTES, TSA_CONTENT_TYPE, DemoTsa


def _enabled() -> None:
    if not settings.DEMO_PKI_SERVICES:
        raise Http404


@cache
def _tsa() -> DemoTsa:
    folder = demo.default_folder()
    return DemoTsa.from_files(
        folder / "tsa" / "tsa.cert.pem",
        folder / "tsa" / "tsa.key.pem",
        (folder / "ca" / "issuing.cert.pem", folder / "ca" / "root.cert.pem"),
    )


@csrf_exempt
@require_POST
def timestamp(request: HttpRequest) -> HttpResponse:
    """RFC 3161 over HTTP: a DER TimeStampReq in, a DER TimeStampResp out."""
    _enabled()
    body = request.body
    if not body or len(body) > MAX_REQUEST_BYTES:
        return HttpResponse(status=400)
    return HttpResponse(_tsa().respond(body), content_type=TSA_CONTENT_TYPE)


@require_GET
def crl(request: HttpRequest) -> HttpResponse:
    _enabled()
    folder = demo.default_folder()
    if not (folder / "ca" / "issuing.key.pem").exists():
        raise Http404
    return HttpResponse(fresh_crl(folder), content_type="application/pkix-crl")
