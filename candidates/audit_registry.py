"""The audit log shows rows that every app writes. An app above candidates (imports) tells the
log here, from its AppConfig.ready(), how to name and link the values it wrote, so candidates
never imports it (the layering rule in docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from accounts.models import AuditLog, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# (viewer, the rows on a page) -> {"kind": {str(id): (name, url)}}, only what the viewer may see
LinkFinder = Callable[[User, list[AuditLog]], dict[str, dict]]

VALUE_LABELS: dict[str, Mapping[str, StrOrPromise]] = {}
LINK_FINDERS: list[LinkFinder] = []


def register(*, value_labels: Mapping[str, Mapping[str, StrOrPromise]], links: LinkFinder) -> None:
    VALUE_LABELS.update(value_labels)
    if links not in LINK_FINDERS:
        LINK_FINDERS.append(links)
