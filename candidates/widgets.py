"""A select that renders its options in Python.

Django renders every `<option>` of a Select through a template (select_option.html); with a
college's 100 groups in the list page's filter and bulk-action forms that was 200 template
renders per request, a third of the page's time (docs/performance.md). The output is the
same markup as Django's own select.html (tests/test_candidate_list_paging.py compares the two).
"""

from __future__ import annotations

from html import escape

from django import forms
from django.utils.safestring import SafeString, mark_safe


def esc(value) -> str:
    """django.utils.html.conditional_escape without its lazy-string wrapper, which cost more
    than the escaping itself at a few hundred values per page."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def html_attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: in order, True as a bare name, False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{esc(value)}"'
        for name, value in attrs.items()
        if value is not False and value is not None
    )


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        chosen = set(self.format_value(value))
        found = False  # like Django, a single select marks only the first match

        def option(option_value, label) -> str:
            nonlocal found
            option_value = "" if option_value is None else str(option_value)
            selected = option_value in chosen and (not found or self.allow_multiple_selected)
            found = found or selected
            mark = " selected" if selected else ""
            return f'<option value="{esc(option_value)}"{mark}>{esc(label)}</option>'

        parts = [f'<select name="{esc(name)}"{html_attrs(self.build_attrs(self.attrs, attrs))}>']
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):  # an <optgroup>
                parts.append(f'<optgroup label="{esc(option_value)}">')
                parts.extend(option(v, sub_label) for v, sub_label in label)
                parts.append("</optgroup>")
            else:
                parts.append(option(option_value, label))
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 -- every value above went through esc()
