"""'Download alle gegevens' on the candidate's page: the access-request export."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.services import client_ip
from accounts.validators import parse_id

from ..selectors import candidates_visible_to
from ..services.access_request import access_request_export
from .common import ADMINS


@role_required(*ADMINS)
@require_POST
def candidate_export(request, pk: int):
    """POST, not a link: the download writes an audit row, and a prefetching browser or a
    crawler must not write one. Found through the visibility rule, so anyone else gets 404."""
    if parse_id(pk) is None:
        raise Http404
    candidate = get_object_or_404(
        candidates_visible_to(request.user).select_related("user", "organisation"), pk=pk
    )
    archive = access_request_export(actor=request.user, candidate=candidate, ip=client_ip(request))
    response = HttpResponse(archive, content_type="application/zip")
    filename = f"gegevens-{candidate.user.username}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # personal data: no copy in any cache
    return response
