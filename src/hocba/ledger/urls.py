"""Public log URLs, mounted at ``so-cai/`` (a C2SP tlog-tiles prefix)."""

from django.urls import path

from hocba.ledger import views

app_name = "ledger"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("checkpoints/<int:size>", views.checkpoint_by_size, name="checkpoint_by_size"),
    path("key", views.verifier_key, name="key"),
    path("tile/entries/<path:path>", views.entries, name="entries"),
    path("tile/<path:path>", views.tile, name="tile"),
    path("status-list", views.status_list, name="status_list"),
]
