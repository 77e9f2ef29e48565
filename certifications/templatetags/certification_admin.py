"""The certification change list's date drill-down, its choices read from the maintained totals."""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode

from certifications.admin.counting import TallyDates, TallyDrillDown, certification_tally_count

register = template.Library()


def tally_date_hierarchy(cl):
    """Django's ``date_hierarchy`` with the change list's dates taken from the tallies (the page's own filters kept)."""
    count = certification_tally_count(cl.params, date_field=cl.date_hierarchy, relaxed=True)
    return date_hierarchy(TallyDrillDown(cl, TallyDates(count)))


@register.tag(name="tally_date_hierarchy")
def tally_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=tally_date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )
