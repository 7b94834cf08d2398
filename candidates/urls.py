from django.urls import path

from . import views

app_name = "candidates"

urlpatterns = [
    path("kandidaten/", views.candidate_list, name="list"),
    path("kandidaten/<int:pk>/wijzigen/", views.candidate_edit, name="edit"),
    path("kandidaatgroepen/", views.group_list, name="groups"),
    path("medewerkers/", views.staff_list, name="staff"),
    path("auditlog/", views.audit_log, name="audit"),
    path("instellingen/", views.college_settings, name="settings"),
    path("mijn-kandidaten/", views.my_candidates, name="mine"),
    path("mijn-gegevens/", views.my_details, name="me"),
]
