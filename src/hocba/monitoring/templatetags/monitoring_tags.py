"""``{% load monitoring_tags %}``: the nav link's test."""

from typing import Any

from django import template

from hocba.monitoring import access

register = template.Library()


@register.filter
def can_monitor(user: Any) -> bool:
    """The user sees at least one rollout dashboard."""
    return access.can_monitor(user)
