"""``{% grid_nav school_class %}``: links to the assessment grids a user works with in a class."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from hocba.schools import access
from hocba.schools.models import SchoolClass

register = template.Library()


@register.inclusion_tag("web/grid_nav.html", takes_context=True)
def grid_nav(context: dict[str, Any], school_class: SchoolClass) -> dict[str, Any]:
    """Subjects the user enters, the homeroom's pages (to enter or to view), the overview."""
    from hocba.web.views_grid import enterable_subjects

    user = context["request"].user
    current = context["request"].path

    def link(url: str) -> dict[str, Any]:
        return {"url": url, "active": current.startswith(url)}

    return {
        "subjects": [
            {
                "label": label,
                **link(reverse("web:grid_subject_default", args=[school_class.pk, code])),
            }
            for code, label in enterable_subjects(user, school_class)
        ],
        "is_homeroom": access.can_enter_homeroom(user, school_class),
        "homeroom": link(reverse("web:grid_homeroom_default", args=[school_class.pk])),
        "facts": link(reverse("web:grid_facts", args=[school_class.pk])),
        "overview": link(reverse("web:class_overview", args=[school_class.pk])),
        "year_end": link(reverse("web:year_end", args=[school_class.pk])),
        "locks": link(reverse("web:locks", args=[school_class.pk])),
        "excel": link(reverse("web:excel_class", args=[school_class.pk])),
        "records": link(reverse("web:records_class", args=[school_class.pk])),
        "signing": link(reverse("web:signing_class", args=[school_class.pk])),
    }
