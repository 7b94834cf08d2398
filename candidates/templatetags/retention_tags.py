"""Whether to offer deleting: the same rule the deletion views enforce."""

from django import template

from accounts.models import User

from ..selectors import may_delete_candidates

register = template.Library()


@register.filter
def may_delete(user: User) -> bool:
    return may_delete_candidates(user)
