"""A select that renders its options in Python.

Django renders every `<option>` of a Select through a template (select_option.html); with the
college's groups in the list page's filter and bulk-action forms that was ~100 template
renders per request, a third of the page's time (docs/performance.md). The output is the
same markup as Django's own select.html.
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: in order, True as a bare name, False left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False and value is not None
        ),
    )


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], _attrs(o["attrs"]), o["label"]) for o in options),
            )
            parts.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, html)
                if group_name
                else html
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            _attrs(widget["attrs"]),
            mark_safe("".join(parts)),  # noqa: S308 -- every part was built by format_html
        )
