"""Second-factor pages of a signed-in staff user: enrol (offered while optional), recovery codes."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.factor import enrolment_device, factor_confirm, has_factor, qr_svg, recovery_codes, secret_text
from access.security_log import Origin


def _render(request, template: str, context: dict) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context})


def enrolment_page(request, user, *, confirmed: Callable[[TOTPDevice], HttpResponse]) -> HttpResponse:
    """The QR code and a form for the first code; ``confirmed(device)`` answers once a right code enrolled ``user``."""
    device = enrolment_device(user)
    error = ""
    if request.method == "POST":
        code = request.POST.get("code") or ""
        if factor_confirm(user=user, device=device, code=code, now=timezone.now(), origin=Origin.of(request)):
            return confirmed(device)
        error = "That code is not right: scan the QR code again and type the code the app shows now."
    context = {
        "title": "Set up your second factor",
        "qr": qr_svg(device),
        "secret": secret_text(device),
        "error": error,
    }
    return _render(request, "access/enrol.html", context)


@never_cache
@staff_member_required
def enrol(request):
    """Set up a second factor (from the admin, while ``STAFF_MFA`` is optional; required users enrol at sign-in)."""
    if has_factor(request.user):
        return HttpResponseRedirect(reverse("access:recovery-codes"))

    def confirmed(device):
        otp_login(request, device)
        return HttpResponseRedirect(reverse("access:recovery-codes"))

    return enrolment_page(request, request.user, confirmed=confirmed)


@never_cache
@staff_member_required
def codes(request):
    """The recovery codes left (each works once), for a user who signed in with their factor."""
    if not request.user.is_verified():
        raise Http404("Sign in with your second factor to see your recovery codes.")
    context = {"title": "Recovery codes", "codes": recovery_codes(request.user)}
    return _render(request, "access/recovery_codes.html", context)
