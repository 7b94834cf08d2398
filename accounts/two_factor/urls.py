from django.urls import path

from . import views

app_name = "two_factor"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("controleren/", views.verify, name="verify"),
    path("instellen/", views.enrol, name="enrol"),
    path("herstelcodes/", views.recovery_codes, name="recovery_codes"),
]
