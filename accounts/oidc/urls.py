"""The provider's endpoints, under django-oauth-toolkit's own namespace (its views reverse
`oauth2_provider:…`). Only what an exam environment needs: no application management pages,
no device flow, no dynamic registration."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from .views import ExamAuthorizationView

urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("oidc/authorize/", ExamAuthorizationView.as_view(), name="authorize"),
    path("oidc/token/", dot.TokenView.as_view(), name="token"),
    path("oidc/userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("oidc/logout/", dot.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    path("oidc/revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
]
