from django.db.models import QuerySet

from accounts.models import Role, User

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
