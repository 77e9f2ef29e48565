"""Template filters of the mail templates (``{% load mail_text %}``).

``one_line`` shows a value from the data (a mentor's name, a type's name, a reason)
on one line, with no bidi controls: the rule names are stored by
(``certifications.text.one_line``), applied again to what was stored before it.
"""

from __future__ import annotations

from django import template

from certifications.text import one_line as _one_line

register = template.Library()


@register.filter(is_safe=False)
def one_line(value) -> str:
    """``value`` on one line (see ``certifications.text.one_line``)."""
    return _one_line("" if value is None else str(value))
