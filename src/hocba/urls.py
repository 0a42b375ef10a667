from django.contrib import admin
from django.urls import include, path

from hocba.api.endpoints import api
from hocba.common import health

urlpatterns = [
    # Liveness and readiness probes (no login, no data).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("quan-tri/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("so-cai/", include("hocba.ledger.urls")),
    path("theo-doi/", include("hocba.monitoring.urls")),
    path("trao-doi/", include("hocba.exchange.urls")),
    path("", include("hocba.verification.urls")),
    path("", include("hocba.web.urls")),
]
