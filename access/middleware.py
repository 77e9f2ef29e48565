"""A session that owes its second factor is no session: signed out before any view sees it.

The login flow (``access.login``) never signs a user in without the factor; this
catches the rest: a session from before ``STAFF_MFA`` was required, or one whose
factor was reset since. It runs after django-otp's ``OTPMiddleware``, which marks
the sessions that gave a code (``user.is_verified()``).
"""

from __future__ import annotations

from django.contrib.auth import logout

from access.factor import owes_factor


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified() and owes_factor(user):
            logout(request)
        return self.get_response(request)
