"""The security log's one write, and the receivers of Django's sign-in signals.

Every entry point (the login flow, the admin, a command) describes where a
request came from with an :class:`Origin` and calls :func:`security_event_write`
in the transaction of the change it logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from access.models import SecurityEvent, SecurityEventKind
from certhub import personal_data
from certhub.login_limits import client_address


@dataclass(frozen=True)
class Origin:
    """Where an access write came from: the client's address and user agent, or a command."""

    address: str = ""
    user_agent: str = ""

    @classmethod
    def of(cls, request) -> Origin:
        if request is None:
            return COMMAND_LINE
        return cls(client_address(request)[:64], request.META.get("HTTP_USER_AGENT", "")[:300])


COMMAND_LINE = Origin("", "manage.py")
# A request attribute a middleware sets before ending a session: the sign-out row's detail.
SIGN_OUT_REASON = "access_sign_out_reason"


def security_event_write(
    *,
    kind: SecurityEventKind,
    user=None,
    actor=None,
    username: str = "",
    origin: Origin,
    now: dt.datetime,
    detail: str = "",
) -> SecurityEvent:
    """Append one row to the security log."""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor if actor is not None else user,
        username=(username or getattr(user, "username", ""))[:150],
        address=origin.address,
        user_agent=origin.user_agent,
        detail=detail[:300],
        occurred_at=now,
    )


@receiver(user_logged_in, dispatch_uid="access.sign_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    security_event_write(kind=SecurityEventKind.SIGN_IN, user=user, origin=Origin.of(request), now=timezone.now())


@receiver(user_logged_out, dispatch_uid="access.sign_out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_event_write(
            kind=SecurityEventKind.SIGN_OUT,
            user=user,
            origin=Origin.of(request),
            now=timezone.now(),
            detail=getattr(request, SIGN_OUT_REASON, ""),
        )


@receiver(user_login_failed, dispatch_uid="access.sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    security_event_write(
        kind=SecurityEventKind.SIGN_IN_FAILED,
        username=str(credentials.get("username", "")),
        origin=Origin.of(request),
        now=timezone.now(),
    )


PERSONAL_DATA_KINDS = {
    personal_data.EXPORTED: SecurityEventKind.PERSONAL_DATA_EXPORTED,
    personal_data.ERASED: SecurityEventKind.PERSONAL_DATA_ERASED,
}


@receiver(personal_data.personal_data_handled, dispatch_uid="access.personal_data")
def _personal_data_handled(sender, action, subject, actor, request, now, detail="", **kwargs) -> None:
    """The security log's row of a personal-data export or erasure (``certhub.personal_data``)."""
    security_event_write(
        kind=PERSONAL_DATA_KINDS[action],
        actor=actor,
        username=getattr(actor, "username", ""),
        origin=Origin.of(request),
        now=now,
        detail=f"{subject}: {detail}" if detail else subject,
    )
