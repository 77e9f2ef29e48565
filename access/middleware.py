"""Sessions that must end before any view sees them: one that owes its second factor, one idle too long.

The login flow (``access.login``) never signs a user in without the factor;
``SecondFactorMiddleware`` catches the rest: a session from before ``STAFF_MFA``
was required, or one whose factor was reset since. It runs after django-otp's
``OTPMiddleware``, which marks the sessions that gave a code (``user.is_verified()``).

``IdleSessionMiddleware`` ends an admin session unused for
``ADMIN_SESSION_IDLE_MINUTES``. (A password change ends the user's other
sessions without us: Django keeps a hash of the password in each session and
signs out a session whose hash no longer matches.)
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import logout
from django.utils import timezone

from access.factor import owes_factor
from access.security_log import SIGN_OUT_REASON

# When the session was last used, in seconds since the epoch; written at most once a minute
# (one session write a minute, not one a request), so the limit holds to within that minute.
LAST_SEEN = "access.last_seen"
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)


def sign_out(request, reason: str) -> None:
    """End the request's session; the security log's sign-out row says why."""
    setattr(request, SIGN_OUT_REASON, reason)
    logout(request)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified() and owes_factor(user):
            sign_out(request, "the session owed the second factor")
        return self.get_response(request)


class IdleSessionMiddleware:
    """A signed-in session unused for ``ADMIN_SESSION_IDLE_MINUTES`` (0: no limit) is signed out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.ADMIN_SESSION_IDLE_MINUTES
        user = getattr(request, "user", None)
        if limit and user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            seen = request.session.get(LAST_SEEN)
            if seen is not None and now - seen > limit * 60:
                sign_out(request, f"idle for more than {limit} minutes")
            elif seen is None or now - seen >= LAST_SEEN_RESOLUTION.total_seconds():
                request.session[LAST_SEEN] = now
        return self.get_response(request)
