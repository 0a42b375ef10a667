"""Template filters for verification reports (their times are ISO 8601 strings)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def iso_local(value: str | None) -> str:
    """``2026-11-29T20:39:00Z`` → ``30/11/2026 03:39`` in the site's time zone; "" if unreadable."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M:%S")
