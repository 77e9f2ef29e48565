"""The admin's sign-in: the password, then (when owed) enrolment or a code, on the one login URL.

Nobody is signed in before the second factor is given: after a right password
the session only holds a *pending* sign-in (``PENDING_SIGN_IN``), so no URL of
the admin or the API sees a user until the code (or, required and not yet
enrolled, a confirmed enrolment) completes it. Every step posts to
``/admin/login/``: a wrong code redraws the page (200), which the login limit
counts like a wrong password.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice

from access.factor import has_factor, owes_factor
from access.models import SecurityEventKind
from access.security_log import Origin, security_event_write
from access.views import enrolment_page
from certhub.login_limits import PENDING_SIGN_IN


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


class PasswordStep(LoginView):
    """Django's admin login, except that a user who owes a factor is not signed in yet."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form):
        user = form.get_user()
        if not owes_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_SIGN_IN] = {
            "user_id": user.pk,
            "username": user.get_username(),
            "backend": user.backend,
            "next": self.get_redirect_url() or "",
        }
        return HttpResponseRedirect(reverse("admin:login"))


def _finish(request, user, backend: str, device) -> HttpResponseRedirect:
    pending = request.session.pop(PENDING_SIGN_IN)
    user.backend = backend
    auth_login(request, user)
    otp_login(request, device)
    return HttpResponseRedirect(pending.get("next") or reverse("admin:index"))


def _render(request, site, template: str, context: dict, status: int = 200) -> TemplateResponse:
    return TemplateResponse(request, template, {**site.each_context(request), **context}, status=status)


def code_step(request, site, user, pending: dict):
    """Ask the enrolled user for a code (or a recovery code)."""
    error = ""
    if request.method == "POST":
        code = (request.POST.get("code") or "").strip().replace(" ", "")
        device = match_token(user, code) if code else None
        if device is not None:
            if isinstance(device, StaticDevice):
                security_event_write(
                    kind=SecurityEventKind.RECOVERY_CODE_USED, user=user, origin=Origin.of(request), now=timezone.now()
                )
            return _finish(request, user, pending["backend"], device)
        security_event_write(
            kind=SecurityEventKind.FACTOR_FAILED, user=user, origin=Origin.of(request), now=timezone.now()
        )
        error = "That code is not right. Try the current code of your authenticator app, or a recovery code."
    return _render(
        request, site, "access/code.html", {"title": "Second factor", "username": user.get_username(), "error": error}
    )


def enrol_step(request, user, pending: dict):
    """Required and not enrolled: enrol before anything else (the QR code, then a first code)."""

    def confirmed(device):
        _finish(request, user, pending["backend"], device)
        return HttpResponseRedirect(reverse("access:recovery-codes"))

    return enrolment_page(request, user, confirmed=confirmed)


@sensitive_post_parameters()
@csrf_protect
@never_cache
def admin_login(request, site: admin.AdminSite, extra_context=None):
    """``/admin/login/``: the password step, then the pending sign-in's code or enrolment step."""
    pending = request.session.get(PENDING_SIGN_IN)
    if pending is not None:
        user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True, is_staff=True).first()
        if user is None or request.GET.get("restart"):
            request.session.pop(PENDING_SIGN_IN, None)
            return HttpResponseRedirect(reverse("admin:login"))
        if has_factor(user):
            return code_step(request, site, user, pending)
        return enrol_step(request, user, pending)
    if request.method == "GET" and request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(_next_url(request))
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "next": request.GET.get("next") or resolve_url("admin:index"),
        **(extra_context or {}),
    }
    request.current_app = site.name
    return PasswordStep.as_view(extra_context=context)(request)


def register_login() -> None:
    """Make the admin site's login view this one (``CertHubAdminSite.login`` delegates to it)."""
    admin.site.set_login_view(admin_login)
