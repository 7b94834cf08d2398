from uuid import UUID

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import AuditLog, Role, User

from .models import ImportBatch


def batches_visible_to(user: User) -> QuerySet[ImportBatch]:
    """Import history: a beheerder sees every import of the college, a coordinator their own."""
    if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
        return ImportBatch.objects.none()
    own = ImportBatch.objects.filter(organisation_id=user.organisation_id)
    if user.role == Role.BEHEERDER:
        return own
    if user.role == Role.TOETSCOORDINATOR:
        return own.filter(created_by=user)
    return ImportBatch.objects.none()


def draft_of(user: User) -> QuerySet[ImportBatch]:
    """Wizard steps: only the uploader's own unfinished batches (someone else's id is a 404)."""
    return batches_visible_to(user).filter(created_by=user, status=ImportBatch.Status.DRAFT)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def audit_batch_links(user: User, rows: list[AuditLog]) -> dict[str, dict]:
    """For the audit log (registered in imports.apps): the imports named on a page of rows
    that the viewer may see, each as (file name, result page). One query."""
    batch_ids = {u for r in rows if (u := _uuid(r.after.get("batch"))) is not None}
    batches = batches_visible_to(user).filter(pk__in=batch_ids).values_list("pk", "file_name")
    urls = {str(pk): (name, reverse("imports:result", args=[pk])) for pk, name in batches}
    return {"batches": urls}
