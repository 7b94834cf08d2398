from django.contrib import admin

from .models import Candidate, CandidateGroup


@admin.register(CandidateGroup)
class CandidateGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "education_area")
    list_filter = ("organisation",)
    filter_horizontal = ("coordinators", "supervisors")


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("candidate_number", "user", "organisation")
    list_filter = ("organisation",)
    search_fields = ("candidate_number", "search_text")
    raw_id_fields = ("user",)
    filter_horizontal = ("groups", "supervisors")
