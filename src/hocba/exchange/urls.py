"""Exchange pages, mounted at ``/trao-doi/`` by the project's urls.py."""

from django.urls import path

from hocba.exchange import views

app_name = "exchange"

urlpatterns = [
    path("xuat", views.export_download, name="export"),
]
