"""Limits failed admin login attempts (brute force and credential stuffing).

A failed ``POST`` to the admin login page counts against the client address
and the username tried, in the shared cache, for ``ADMIN_LOGIN_LOCKOUT_SECONDS``.
After ``ADMIN_LOGIN_MAX_ATTEMPTS`` failures for one username from one address
(or four times that many from one address over all usernames) further login
posts from there answer 429 with ``Retry-After`` until the window passes; the
password is not even checked. A successful login clears the username's count.

Behind the TLS proxy (``BEHIND_TLS_PROXY=true``) the address is the last entry
of ``X-Forwarded-For`` (the one the proxy itself saw), not the proxy's own.
The counters live in the default cache: Redis when ``REDIS_URL`` is set (one
limit for every web process), otherwise each process's memory.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

PER_ADDRESS_FACTOR = 4


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
    username = (request.POST.get("username") or "").strip().lower()
    # Hashed, so neither usernames nor addresses appear in cache keys verbatim.
    pair = hashlib.sha256(f"{address}\n{username}".encode()).hexdigest()
    only_address = hashlib.sha256(address.encode()).hexdigest()
    return f"admin-login:pair:{pair}", f"admin-login:addr:{only_address}"


def _bump(key: str) -> int:
    if cache.add(key, 1, timeout=_window()):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_window())
        return 1


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
        if (cache.get(pair_key) or 0) >= limit or (cache.get(address_key) or 0) >= limit * PER_ADDRESS_FACTOR:
            return _locked_out_response()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and response.status_code in (301, 302, 303):
            cache.delete(pair_key)
        elif response.status_code == 200:  # the form shown again: the credentials were refused
            _bump(pair_key)
            _bump(address_key)
        return response
