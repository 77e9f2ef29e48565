"""Limits failed admin login attempts (brute force and credential stuffing).

A failed ``POST`` to the admin login page counts against the client address
and the username tried, for ``ADMIN_LOGIN_LOCKOUT_SECONDS``. After
``ADMIN_LOGIN_MAX_ATTEMPTS`` failures for one username from one address (or
four times that many from one address over all usernames) further login posts
from there answer 429 with ``Retry-After`` until the window passes; the
password is not even checked (a lock that let the right password through would
let a guesser go on guessing). A successful login clears the username's count. A wrong second-factor code
(posted to the same page) counts as a failure of the username whose password
was right.

Behind the TLS proxy (``BEHIND_TLS_PROXY``) the address is the last entry of
``X-Forwarded-For`` (the one the proxy itself saw), not the proxy's own.
The counters live in the database (``certhub.models.LoginFailure``): one limit
for every web process and machine, whether or not Redis is configured or up.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from certhub.models import LoginFailure

PER_ADDRESS_FACTOR = 4
# The session entry of a sign-in whose password was right and whose second factor is still owed
# (``access.login``): a code posted then counts against the username of that sign-in.
PENDING_SIGN_IN = "certhub.pending_sign_in"


def _max_attempts() -> int:
    return getattr(settings, "ADMIN_LOGIN_MAX_ATTEMPTS", 5)


def _window() -> int:
    return getattr(settings, "ADMIN_LOGIN_LOCKOUT_SECONDS", 900)


def client_address(request: HttpRequest) -> str:
    """The client's address: behind the TLS proxy, the one the proxy appended to X-Forwarded-For."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if getattr(settings, "BEHIND_TLS_PROXY", False) and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(request: HttpRequest) -> tuple[str, str]:
    address = client_address(request)
    pending = request.session.get(PENDING_SIGN_IN) if hasattr(request, "session") else None
    username = (pending["username"] if pending else request.POST.get("username") or "").strip().lower()
    # Hashed, so neither usernames nor addresses appear in cache keys verbatim.
    pair = hashlib.sha256(f"{address}\n{username}".encode()).hexdigest()
    only_address = hashlib.sha256(address.encode()).hexdigest()
    return pair, only_address


def _failures(key: str, now: dt.datetime) -> int:
    return LoginFailure.objects.filter(key=key, window_ends_at__gt=now).values_list("count", flat=True).first() or 0


def _bump(key: str, now: dt.datetime) -> None:
    """Count one failure for ``key``: in its current window, or in a new one from ``now``."""
    if LoginFailure.objects.filter(key=key, window_ends_at__gt=now).update(count=F("count") + 1):
        return
    window_ends_at = now + dt.timedelta(seconds=_window())
    try:
        with transaction.atomic():
            if not LoginFailure.objects.filter(key=key).update(count=1, window_ends_at=window_ends_at):
                LoginFailure.objects.create(key=key, count=1, window_ends_at=window_ends_at)
    except IntegrityError:  # a concurrent failure created the row first: count on it
        LoginFailure.objects.filter(key=key).update(count=F("count") + 1)
    # Windows that ended count for nothing: keep the table to the keys that are still counting.
    LoginFailure.objects.filter(window_ends_at__lte=now - dt.timedelta(seconds=_window())).delete()


def _locked_out_response() -> HttpResponse:
    response = HttpResponse(
        "Too many failed login attempts. Try again later.", status=429, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(_window())
    return response


class AdminLoginLimitMiddleware:
    """Refuse admin login posts after too many failures; count the failures."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path != reverse("admin:login"):
            return self.get_response(request)
        pair_key, address_key = _keys(request)
        limit = _max_attempts()
        now = timezone.now()
        if _failures(pair_key, now) >= limit or _failures(address_key, now) >= limit * PER_ADDRESS_FACTOR:
            return _locked_out_response()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and response.status_code in (301, 302, 303):
            LoginFailure.objects.filter(key=pair_key).delete()
        elif response.status_code == 200:  # the form shown again: the credentials were refused
            _bump(pair_key, now)
            _bump(address_key, now)
        return response
