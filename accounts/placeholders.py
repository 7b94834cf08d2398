"""Texts a college writes itself with placeholders: the credentials mail and the username
pattern. Only `{name}` with a documented name is filled in.

`str.format` is not used for this on purpose: a format spec (`{naam:>100000000}`) turns a
short setting into a text of hundreds of megabytes, and attribute or index access
(`{naam.__class__}`) reaches into Python objects. Here a placeholder is a bare name between
braces, nothing else; `{{` and `}}` stay the escapes for a literal brace, as before.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# What a college may write between braces: a name such as {naam} or {candidate_number}.
NAME = re.compile(r"[a-z][a-z_]*")
# `{{` and `}}` are literal braces; `{...}` without braces inside is a placeholder; any other
# brace is a loose one.
TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

# Upper bounds on what one text may become, whatever its placeholders hold.
MAX_TEMPLATE_LENGTH = 5000
MAX_MAIL_LENGTH = 20000
USERNAME_MAX_LENGTH = 150  # User.username

ERRORS = {
    "braces": _(
        "De tekst bevat een losse accolade. Gebruik accolades alleen rond een plaatshouder."
    ),
    "placeholder": _("Onbekende plaatshouder {%(name)s}. Beschikbaar: %(available)s."),
    "invalid_placeholder": _(
        "Ongeldige plaatshouder {%(name)s}: opmaak (zoals :>10), punten en haken zijn niet "
        "toegestaan. Beschikbaar: %(available)s."
    ),
    "too_long": _("De tekst is te lang: gebruik hoogstens %(max)s tekens."),
}


@lru_cache(maxsize=64)
def _parse(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """The template as (literal text, placeholder name or None, the placeholder as written).
    A placeholder that is not a bare name gets name None and stays text."""
    parts = []
    literal: list[str] = []
    position = 0
    for match in TOKEN.finditer(template):
        literal.append(template[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif match.group(1) is not None and NAME.fullmatch(match.group(1)):
            parts.append(("".join(literal), match.group(1), token))
            literal = []
        else:
            literal.append(token)
    literal.append(template[position:])
    parts.append(("".join(literal), None, ""))
    return tuple(parts)


def render_placeholders(template: str, values: dict[str, str], *, max_length: int) -> str:
    """Fill `{name}` from `values`; an unknown or malformed placeholder stays as written, so a
    mistake shows instead of crashing. The result is cut at `max_length` characters."""
    out = []
    size = 0
    for literal, name, written in _parse(template):
        value = str(values[name]) if name in values else written
        out.append(literal)
        out.append(value)
        size += len(literal) + len(value)
        if size >= max_length:
            break
    return "".join(out)[:max_length]


def check_placeholders(text: str, available: tuple[str, ...]) -> set[str]:
    """Validate a college's text; returns the placeholders it uses. Raises ValidationError
    with a Dutch message naming the first loose brace or bad placeholder."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ValidationError(
            ERRORS["too_long"], code="too_long", params={"max": MAX_TEMPLATE_LENGTH}
        )
    listed = ", ".join("{" + p + "}" for p in available)
    names = set()
    for match in TOKEN.finditer(text):
        inner = match.group(1)
        if match.group(0) in ("{{", "}}"):
            continue
        if inner is None:
            raise ValidationError(ERRORS["braces"], code="braces")
        if inner in available:
            names.add(inner)
            continue
        code = "placeholder" if NAME.fullmatch(inner) else "invalid_placeholder"
        raise ValidationError(ERRORS[code], code=code, params={"name": inner, "available": listed})
    return names
