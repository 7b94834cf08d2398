from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from hijack import urls as hijack_urls

from accounts.oidc import urls as oidc_urls
from candidates.views.impersonation import ImpersonateView

# django-hijack's URLs with our own 'acquire', which looks the target up among the users the
# actor may see; the namespace stays "hijack" (templates, the login audit and the middleware
# know it by that name).
hijack_patterns = [
    path("acquire/", ImpersonateView.as_view(), name="acquire"),
    *(p for p in hijack_urls.urlpatterns if p.name != "acquire"),
]

urlpatterns = [
    path("platform-admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("hijack/", include((hijack_patterns, "hijack"))),
    path("tweestapsverificatie/", include("accounts.two_factor.urls")),
    # OpenID Connect provider for exam environments; discovery at the site root (the issuer).
    path("", include((oidc_urls.urlpatterns, "oauth2_provider"))),
    path("beheer/import/", include("imports.urls")),
    path("beheer/", include("candidates.urls")),
    path("", include("accounts.urls")),
]
