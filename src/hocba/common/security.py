"""Response headers and idle sessions (issue 10 §2).

:class:`SecurityHeadersMiddleware` adds ``settings.CONTENT_SECURITY_POLICY`` to every HTML
response (no inline script or eval anywhere in the templates: htmx runs with ``allowEval`` off and
its indicator styles in hocba.css) and ``Permissions-Policy``; Django's own middleware already
sends ``X-Frame-Options: DENY``, ``nosniff``, the referrer policy and, behind TLS, HSTS.

:class:`IdleTimeoutMiddleware` signs a user out after ``settings.HOCBA_IDLE_SECONDS`` without a
request (the session's absolute lifetime is ``SESSION_COOKIE_AGE``). The last-seen time is saved
at most once a minute, so browsing does not write the session on every page.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

LAST_SEEN = "hocba_last_seen"
WRITE_EVERY = 60


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "HOCBA_IDLE_SECONDS", 0))
        if limit and request.user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - float(last) > limit:
                logout(request)
                messages.info(
                    request,
                    _("Phiên làm việc đã hết hạn vì lâu không thao tác. Hãy đăng nhập lại."),
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - float(last) > WRITE_EVERY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
