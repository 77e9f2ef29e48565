"""Admin: API keys (create with the secret shown once, list, revoke), the security log (read-only, superusers),
and a superuser's reset of another user's second factor.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.factor import factor_reset
from access.keys import MAX_DAYS, api_key_create, api_key_revoke
from access.models import ApiKey, SecurityEvent
from access.security_log import Origin
from certhub.api.scopes import SCOPES


class ApiKeyCreateForm(forms.ModelForm):
    """The fields a new key takes; the service makes it (and its secret) on save."""

    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES], widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=90, help_text=f"At most {MAX_DAYS} days.")

    class Meta:
        model = ApiKey
        fields = ["name", "user"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_active:
            raise ValidationError("A key cannot be made for an inactive user.")
        return user

    def write(self, *, by, origin: Origin) -> tuple[ApiKey, str]:
        now = timezone.now()
        return api_key_create(
            user=self.cleaned_data["user"],
            name=self.cleaned_data["name"],
            scopes=self.cleaned_data["scopes"],
            expires_at=now + dt.timedelta(days=self.cleaned_data["days"]),
            now=now,
            by=by,
            origin=origin,
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "name", "user", "scope_list", "expires_at", "last_used_at", "revoked_at", "created_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["key_id", "name", "user__username"]
    actions = ["revoke"]
    readonly = [
        "key_id",
        "name",
        "user",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
        "created_by",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "user", "scopes", "days"] if obj is None else self.readonly

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)  # a key is created or revoked, never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoking keeps the record

    def save_form(self, request, form, change):
        """Made by the service; the secret rides on the object to ``response_add``, on this request alone."""
        key, key.secret = form.write(by=request.user, origin=Origin.of(request))
        return key

    def save_model(self, request, obj, form, change):
        """Already saved by the service."""

    def save_related(self, request, form, formsets, change):
        """No related rows."""

    def response_add(self, request, obj, post_url_continue=None):
        """The new key's secret, on this page alone (never in a message, cookie or session)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New API key",
            "key": obj,
            "secret": obj.secret,
        }
        response = TemplateResponse(request, "admin/access/apikey/secret.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        now = timezone.now()
        for key in queryset:
            api_key_revoke(key=key, now=now, by=request.user, origin=Origin.of(request))
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("access.change_apikey")


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log: superusers read it; nobody changes it."""

    list_display = ["occurred_at", "kind", "username", "user", "actor", "address", "detail"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["username", "user__username", "address", "detail"]
    date_hierarchy = "occurred_at"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# django-otp's device admins would show every user's TOTP key (and QR code) to staff: devices are
# managed by their owner (enrolment) and reset by a superuser (the user action below), nothing else.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


User = get_user_model()
BaseUserAdmin = type(admin.site._registry[User]) if admin.site.is_registered(User) else UserAdmin


class AccessUserAdmin(BaseUserAdmin):
    """Users, with a superuser's action to reset a second factor."""

    actions = [*(BaseUserAdmin.actions or []), "reset_second_factor"]

    @admin.action(description="Reset the second factor (they enrol again at their next sign-in)", permissions=["reset"])
    def reset_second_factor(self, request, queryset):
        now = timezone.now()
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(request, "Your own factor is reset by another superuser.", messages.ERROR)
            elif factor_reset(user=user, now=now, by=request.user, origin=Origin.of(request)):
                self.message_user(request, f"The second factor of {user.get_username()} was reset.", messages.SUCCESS)

    def has_reset_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AccessUserAdmin)
