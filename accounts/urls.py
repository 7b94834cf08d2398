from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("inloggen/", views.LoginView.as_view(), name="login"),
    path("inloggen/school/<slug:code>/", views.college_sign_in_start, name="college_sign_in"),
    path(
        "inloggen/school/<slug:code>/terug/",
        views.college_sign_in_callback,
        name="college_sign_in_callback",
    ),
    path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
    path("wachtwoord-wijzigen/", views.password_change, name="password_change"),
    path("", views.home, name="home"),
]
