"""The mentor's renewal page, ``/renew/<token>``: plain server-rendered HTML, no JavaScript, no account.

The signed token (``links``) is the only credential: a forged, altered or
expired one gets a 404 page that names nobody and says whom to contact. The
page shows the mentor's newest record of each type they hold and their
pending requests, and a form that sends a request through the same service
as the API (``renewal_request_submit``, ``Actor.mentor()``). It is limited
per client address (the cache: shared across workers with Redis, per process
without); a body larger than the evidence limit is refused from its
``Content-Length`` before it is read, and only then is the CSRF token (which
lives in the body) checked.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from certhub.errors import DomainError
from certhub.login_limits import client_address
from certifications.history import Actor
from certifications.models import Certification, CertificationType, Mentor, RenewalRequest, RenewalState
from certifications.renewals.evidence import evidence_body_too_large
from certifications.renewals.forms import RenewalForm
from certifications.renewals.links import mentor_for_token, program_contact
from certifications.services.renewals import renewal_request_submit

WINDOW_SECONDS = 60


def _limited(request: HttpRequest) -> bool:
    """Count this request against its address's minute; True when over ``RENEWAL_LINK["RATE_PER_MINUTE"]``."""
    key = f"renewal-link:{client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > settings.RENEWAL_LINK["RATE_PER_MINUTE"]


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, f"renew/{template}", {"contact": program_contact(), **context}, status=status)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _held(mentor: Mentor) -> list[Certification]:
    """The newest live record of each type the mentor holds or held."""
    records = (
        Certification.objects.alive()
        .filter(mentor=mentor)
        .select_related("certification_type")
        .order_by("certification_type__code", "-issued_at", "-id")
    )
    newest: dict[int, Certification] = {}
    for record in records:
        newest.setdefault(record.certification_type_id, record)
    return list(newest.values())


@csrf_exempt  # checked in the view, after the size check: the token is in the body
def renewal_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the mentor's records and the form; POST: send a request, then show the confirmation."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    if _limited(request):
        return _page(request, "limited.html", {}, status=429)
    mentor = mentor_for_token(token)
    if mentor is None:
        return _page(request, "invalid.html", {}, status=404)
    if mentor.erased_at is not None:
        # The same page as a link that is no longer valid: it names nobody (409, as every door to an erased mentor).
        return _page(request, "invalid.html", {}, status=409)
    held = _held(mentor)
    types = CertificationType.objects.filter(pk__in=[record.certification_type_id for record in held], is_active=True)
    form = RenewalForm(types=types)
    if request.method == "POST":
        if evidence_body_too_large(request.META):
            limit = settings.RENEWAL_EVIDENCE_MAX_BYTES
            return _page(request, "too_large.html", {"limit_mb": limit // (1024 * 1024) or 1}, status=413)
        refused = CsrfViewMiddleware(lambda _: None).process_view(request, None, (), {})
        if refused is not None:
            return refused
        form = RenewalForm(request.POST, request.FILES, types=types)
        if form.is_valid():
            data = form.cleaned_data
            try:
                renewal_request_submit(
                    mentor_id=mentor.mentor_id,
                    certification_type=data["certification_type"],
                    issued_at=RenewalForm.midnight_utc(data["issued_at"]),
                    expires_at=RenewalForm.midnight_utc(data["expires_at"]),
                    note=data["note"],
                    evidence=data["evidence"],
                    now=timezone.now(),
                    by=Actor.mentor(),
                )
            except DomainError as error:
                for field, messages in (error.fields or {"__all__": [error.message]}).items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                return HttpResponseRedirect(f"{request.path}?sent=1")
    pending = RenewalRequest.objects.filter(mentor=mentor, state=RenewalState.PENDING).select_related(
        "certification_type"
    )
    context = {
        "mentor": mentor,
        "held": held,
        "pending": list(pending),
        "form": form,
        "sent": request.GET.get("sent") == "1",
        "now": timezone.now(),
    }
    return _page(request, "page.html", context, status=400 if form.errors else 200)
