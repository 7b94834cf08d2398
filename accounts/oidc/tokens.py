"""Revoking what an exam environment holds. One function for every reason: a deactivated or
expired account, a client switched off or given a new secret."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)


def exam_tokens_revoke(*, user_ids: Iterable[int] = (), application_ids: Iterable[int] = ()) -> int:
    """Delete the outstanding authorization codes, access, refresh and id tokens of these users
    (at every exam environment) and of these clients (for every user). Returns how many access
    tokens went. Deleting is revoking in django-oauth-toolkit: a token that is not in the
    table is refused by the userinfo and token endpoints."""
    users, apps = list(user_ids), list(application_ids)
    if not users and not apps:
        return 0
    who = Q(user_id__in=users) | Q(application_id__in=apps)
    get_grant_model().objects.filter(who).delete()
    get_refresh_token_model().objects.filter(who).delete()
    access_tokens = get_access_token_model().objects.filter(who)
    count = access_tokens.count()
    access_tokens.delete()
    get_id_token_model().objects.filter(who).delete()
    return count
