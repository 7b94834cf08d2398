"""'Log in als deze gebruiker': django-hijack's views, with our own 'acquire'."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from hijack.views import AcquireUserView

from accounts.two_factor.middleware import verification_url
from accounts.two_factor.rules import session_verified

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

    def post(self, request, *args, **kwargs):
        # Reached only when the rule allows it (dispatch asked can_impersonate). Becoming a
        # minor's account also needs a session that passed a second factor, ours or the
        # college's identity provider's: a stolen password alone must not be enough.
        if not session_verified(request):
            messages.error(
                request,
                _(
                    "‘Log in als deze gebruiker’ kan alleen na tweestapsverificatie. Bevestig "
                    "eerst je code (of stel tweestapsverificatie in) en probeer het daarna "
                    "opnieuw."
                ),
            )
            back = reverse("candidates:edit", args=[self.get_object().pk])
            return redirect(verification_url(back))
        return super().post(request, *args, **kwargs)
