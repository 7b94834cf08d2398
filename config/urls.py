from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("platform-admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("hijack/", include("hijack.urls")),
    path("beheer/import/", include("imports.urls")),
    path("beheer/", include("candidates.urls")),
    path("", include("accounts.urls")),
]
