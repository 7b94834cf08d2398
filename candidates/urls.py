from django.urls import path

from . import views

app_name = "candidates"

urlpatterns = [
    path("kandidaten/", views.candidate_list, name="list"),
    path("kandidaten/<int:pk>/wijzigen/", views.candidate_edit, name="edit"),
    path("kandidaten/<int:pk>/wachtwoord/", views.candidate_password, name="password"),
    path("kandidaten/<int:pk>/koppelingen/", views.candidate_links, name="links"),
    path("kandidaatgroepen/", views.group_list, name="groups"),
    path("kandidaatgroepen/nieuw/", views.group_create, name="group_create"),
    path("kandidaatgroepen/<int:pk>/", views.group_detail, name="group_detail"),
    path("kandidaatgroepen/<int:pk>/wijzigen/", views.group_edit, name="group_edit"),
    path("kandidaatgroepen/<int:pk>/actie/", views.group_bulk, name="group_bulk"),
    path("medewerkers/", views.staff_list, name="staff"),
    path("medewerkers/nieuw/", views.staff_create, name="staff_create"),
    path("medewerkers/<int:pk>/wijzigen/", views.staff_edit, name="staff_edit"),
    path("medewerkers/<int:pk>/wachtwoord/", views.staff_password, name="staff_password"),
    path("auditlog/", views.audit_log, name="audit"),
    path("instellingen/", views.college_settings, name="settings"),
    path("mijn-kandidaten/", views.my_candidates, name="mine"),
    path("mijn-gegevens/", views.my_details, name="me"),
]
