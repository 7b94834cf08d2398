from django.contrib.auth.backends import ModelBackend

from .models import User


class ValidityModelBackend(ModelBackend):
    """ModelBackend that lets the login form tell *why* an account may not log in.

    `authenticate` returns inactive or expired users when the password is right, so that
    `LoginForm.confirm_login_allowed` can say "je account is verlopen" in plain Dutch (only to
    someone who knows the password, so nothing leaks). Sessions are stricter: `get_user`
    drops a user the moment they are deactivated or their validity ends.
    """

    def user_can_authenticate(self, user) -> bool:
        return True

    def get_user(self, user_id):
        # The college comes along: nearly every page reads it (settings, defaults, mail).
        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        if user is None or not user.is_active or user.validity_problem():
            return None
        return user
