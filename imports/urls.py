from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.start, name="start"),
    path("voorbeeld-bestand/", views.example_file, name="example"),
    path("geschiedenis/", views.history, name="history"),
    path("<uuid:pk>/kolommen/", views.mapping, name="mapping"),
    path("<uuid:pk>/controle/", views.check, name="check"),
    path("<uuid:pk>/fouten.xlsx", views.error_file, name="errors"),
    path("<uuid:pk>/wachtwoord/", views.password, name="password"),
    path("<uuid:pk>/kandidaatgroep/", views.group, name="group"),
    path("<uuid:pk>/begeleiders/", views.supervisors, name="supervisors"),
    path("<uuid:pk>/geldigheid/", views.validity, name="validity"),
    path("<uuid:pk>/inloggegevens/", views.credentials, name="credentials"),
    path("<uuid:pk>/bevestigen/", views.confirm, name="confirm"),
    path("<uuid:pk>/resultaat/", views.result, name="result"),
    path("<uuid:pk>/voortgang.json", views.progress, name="progress"),
    path("<uuid:pk>/inlogbriefjes.pdf", views.slips, name="slips"),
    path("<uuid:pk>/opnieuw/", views.retry, name="retry"),
    path("<uuid:pk>/mail-opnieuw/", views.resend_mails, name="resend_mails"),
    path("<uuid:pk>/ongedaan-maken/", views.undo_import, name="undo"),
]
