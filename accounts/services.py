"""What every app needs to record a change: the audit row and the client address. The writes
themselves live with their feature (staff: candidates.services.staff)."""

from __future__ import annotations

from typing import Any

from .models import AuditLog, Organisation, User


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit(
    *,
    action: str,
    actor: User | None,
    target: User | None = None,
    organisation: Organisation | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    target_repr: str = "",
) -> AuditLog:
    org = (
        organisation
        or getattr(target, "organisation", None)
        or getattr(actor, "organisation", None)
    )
    return AuditLog.objects.create(
        organisation=org,
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_user=target,
        target_repr=target_repr or (target.username if target else ""),
        before=before or {},
        after=after or {},
        ip_address=ip,
    )
