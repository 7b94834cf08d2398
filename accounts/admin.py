from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django_otp.admin import OTPAdminSite

from .models import AuditLog, CollegeSignIn, EducationArea, Organisation, User

# The platform admin changes every college's accounts: only a session that passed its second
# factor gets in (django-otp's documented way to guard the default site). Signed-in operators
# who have not are sent to the verification page first (accounts.two_factor.middleware).
admin.site.__class__ = OTPAdminSite


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(CollegeSignIn)
class CollegeSignInAdmin(admin.ModelAdmin):
    """For the platform operator: switch a college's provider off when its beheerders can no
    longer sign in. The client secret is not editable here (the beheerder's settings page)."""

    list_display = ("organisation", "issuer", "enabled", "staff_only_via_provider")
    list_filter = ("enabled", "staff_only_via_provider")


@admin.register(EducationArea)
class EducationAreaAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    list_filter = ("organisation",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "organisation", "role", "is_active")
    list_filter = ("organisation", "role", "is_active", "is_superuser")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            "Kandidaatbeheer",
            {
                "fields": (
                    "organisation",
                    "role",
                    "surname_prefix",
                    "valid_from",
                    "valid_until",
                    "must_change_password",
                )
            },
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Kandidaatbeheer", {"fields": ("organisation", "role")}),
    )


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created", "organisation", "actor", "action", "target_repr", "ip_address")
    list_filter = ("action", "organisation")
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
