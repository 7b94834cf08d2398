from django.urls import path

from .views import (
    access_request,
    audit,
    candidates,
    deletion,
    exam_environments,
    groups,
    privacy,
    school_year,
    settings,
    staff,
    two_factor,
)

app_name = "candidates"

urlpatterns = [
    path("kandidaten/", candidates.candidate_list, name="list"),
    path("kandidaten/<int:pk>/wijzigen/", candidates.candidate_edit, name="edit"),
    path("kandidaten/<int:pk>/wachtwoord/", candidates.candidate_password, name="password"),
    path("kandidaten/<int:pk>/koppelingen/", candidates.candidate_links, name="links"),
    path("kandidaten/<int:pk>/gegevens/", access_request.candidate_export, name="access_request"),
    path("kandidaatgroepen/", groups.group_list, name="groups"),
    path("kandidaatgroepen/nieuw/", groups.group_create, name="group_create"),
    path("kandidaatgroepen/<int:pk>/", groups.group_detail, name="group_detail"),
    path("kandidaatgroepen/<int:pk>/wijzigen/", groups.group_edit, name="group_edit"),
    path("kandidaatgroepen/<int:pk>/actie/", groups.group_bulk, name="group_bulk"),
    path("kandidaatgroepen/<int:pk>/archiveren/", school_year.group_archive, name="group_archive"),
    path("kandidaatgroepen/<int:pk>/terugzetten/", school_year.group_restore, name="group_restore"),
    path("kandidaatgroepen/<int:pk>/verplaatsen/", school_year.group_move, name="group_move"),
    path("nieuw-schooljaar/", school_year.school_year, name="school_year"),
    path("medewerkers/", staff.staff_list, name="staff"),
    path("medewerkers/nieuw/", staff.staff_create, name="staff_create"),
    path("medewerkers/<int:pk>/wijzigen/", staff.staff_edit, name="staff_edit"),
    path("medewerkers/<int:pk>/wachtwoord/", staff.staff_password, name="staff_password"),
    path(
        "medewerkers/<int:pk>/tweestapsverificatie/",
        staff.staff_two_factor_reset,
        name="staff_two_factor_reset",
    ),
    path("auditlog/", audit.audit_log, name="audit"),
    path("instellingen/", settings.college_settings, name="settings"),
    path("instellingen/inlogdienst/", settings.college_sign_in_settings, name="settings_sign_in"),
    path(
        "instellingen/tweestapsverificatie/",
        two_factor.two_factor_settings,
        name="two_factor_settings",
    ),
    path("instellingen/privacy/", privacy.privacy_settings, name="settings_privacy"),
    path("kandidaten/<int:pk>/verwijderen/", deletion.candidate_delete, name="delete"),
    path("kandidaten/verwijderen/", deletion.delete_selection, name="delete_selection"),
    path("kandidaatgroepen/<int:pk>/verwijderen/", deletion.group_delete, name="group_delete"),
    path(
        "instellingen/toetsomgevingen/",
        exam_environments.exam_environment_list,
        name="exam_environments",
    ),
    path(
        "instellingen/toetsomgevingen/nieuw/",
        exam_environments.exam_environment_create,
        name="exam_environment_create",
    ),
    path(
        "instellingen/toetsomgevingen/<int:pk>/",
        exam_environments.exam_environment_edit,
        name="exam_environment_edit",
    ),
    path(
        "instellingen/toetsomgevingen/<int:pk>/nieuw-geheim/",
        exam_environments.exam_environment_new_secret,
        name="exam_environment_secret",
    ),
    path(
        "instellingen/toetsomgevingen/<int:pk>/aan-uit/",
        exam_environments.exam_environment_switch,
        name="exam_environment_switch",
    ),
    path("mijn-kandidaten/", candidates.my_candidates, name="mine"),
    path("mijn-gegevens/", candidates.my_details, name="me"),
]
