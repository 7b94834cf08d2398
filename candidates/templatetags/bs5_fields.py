"""`{% bs5_field form.field %}`: a Bootstrap 5 form field rendered in Python.

crispy-forms renders one field through about ten nested templates, ~4 ms each on the list page,
which is the page staff open most. This tag gives the same markup (label, widget with
`form-control`/`form-select`/`form-check-input`, `is-invalid`, errors, help text; Django adds
aria-invalid and aria-describedby) for the simple widgets used there. Other pages keep
crispy-forms.
"""

from __future__ import annotations

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()
REQUIRED = mark_safe('<span class="asteriskField">*</span>')


def _widget_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.simple_tag
def bs5_field(field: forms.BoundField) -> str:
    if field.is_hidden:
        return str(field)
    widget = field.field.widget
    css = _widget_class(widget) + (" is-invalid" if field.errors else "")
    control = field.as_widget(attrs={"class": css})
    required = REQUIRED if field.field.required else ""
    errors = ""
    if field.errors:
        errors = format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((i, field.auto_id, e) for i, e in enumerate(field.errors, 1)),
            ),
        )
    help_text = ""
    if field.help_text:
        help_text = format_html(
            '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
        )
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label">{}{}</label>{}{}</div></div>',
            field.auto_id,
            control,
            field.id_for_label,
            field.label,
            required,
            errors,
            help_text,
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label">{}{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        field.label,
        required,
        control,
        errors,
        help_text,
    )
