"""'Log in als deze gebruiker': django-hijack's views, with our own 'acquire'."""

from hijack.views import AcquireUserView

from ..selectors import impersonation_target_or_404


class ImpersonateView(AcquireUserView):
    """django-hijack's 'acquire' with the target looked up among the users the actor may see
    (candidates.selectors), so a malformed or foreign user_pk is a 404, never a 500 or a 403
    that would confirm the id exists."""

    def get_object(self, queryset=None):
        if not hasattr(self, "_target"):
            self._target = impersonation_target_or_404(
                hijacker=self.request.user, user_pk=self.request.POST["user_pk"]
            )
        return self._target
