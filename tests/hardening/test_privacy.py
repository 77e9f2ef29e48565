"""Personal data seen from outside: no route shows a mentor's name or address to a caller without permissions.

The walk takes every route from the URL resolver (a new route is walked without
a change here), fills its path parameters with the ids of seeded objects whose
mentor has a distinctive name and address, and calls every method through
gunicorn, anonymously and with the token of a user holding no permission.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.hardening.servers import gunicorn, http, manage

NAME = "Ottoline Vexbridge-Quarrel"
EMAIL = "ottoline.vexq@privacy-probe.example"
# Each piece on its own too: a route could show the surname alone, or the address's local part.
NEEDLES = (NAME, "Vexbridge", EMAIL, "ottoline.vexq", "privacy-probe")
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")  # DELETE last: it would remove the seed
UNTHROTTLED = {"API_THROTTLE_USER": "1000000/min", "API_THROTTLE_ANON": "1000000/min"}

# A mentor with the name and address, renamed once (so history holds them as values), a certification
# the expiry job pauses them for (an auto-pause log row, a notice addressed to them, events), a webhook
# endpoint with a delivery, and two users: one with no permission, one who may see mentors (the control).
SEED = f"""
import datetime as dt, json
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from certifications import services
from certifications.history import Actor
from events.endpoints import endpoint_create, endpoint_send_test
from notifications.models import Notification

now = timezone.now()
by = Actor(source="cli")
mentor = services.mentor_create(
    mentor_id="mntr_01HX4V2K8P", name="Someone", email="someone@example.org", now=now, by=by
)
mentor = services.mentor_update(mentor=mentor, changes={{"name": {NAME!r}, "email": {EMAIL!r}}}, now=now, by=by)
cert = services.certification_create(
    mentor_id=mentor.mentor_id, certification_type="peer_mentor_basic",
    issued_at=now - dt.timedelta(days=800), expires_at=now - dt.timedelta(days=1), now=now, by=by,
).certification
run = services.expiry_job_run(now=now, trigger="cli")
from django.core.files.base import ContentFile
renewal = services.renewal_request_submit(
    mentor_id=mentor.mentor_id, certification_type="peer_mentor_basic", issued_at=now - dt.timedelta(days=1),
    note="Sent by {NAME}, {EMAIL}", evidence=ContentFile(b"%PDF-1.4 {NAME}", name="c.pdf"), now=now, by=by,
)
endpoint = endpoint_create(url="https://93.184.216.34/hook", now=now)
delivery = endpoint_send_test(endpoint=endpoint, now=now)
nobody = User.objects.create_user("nobody")
viewer = User.objects.create_user("viewer")
viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_mentor", "view_notification"]))
print(json.dumps({{
    "ids": {{
        "mentor_id": mentor.mentor_id, "certification_id": cert.certification_id, "job_run_id": run.job_run_id,
        "endpoint_id": endpoint.endpoint_id, "delivery_id": delivery.delivery_id,
        "renewal_request_id": renewal.renewal_request_id,
        # The renewal page's token is the mentor's own credential: a stranger holds none, so the walk
        # sends one that is not valid (the page must then name nobody).
        "token": "not-a-valid-token",
    }},
    "notices": Notification.objects.filter(recipient={EMAIL!r}).count(),
    "nobody": Token.objects.create(user=nobody).key,
    "viewer": Token.objects.create(user=viewer).key,
}}))
"""


def routes(ids: dict[str, str]) -> list[str]:
    """Every path the URL resolver serves outside the admin, its parameters filled from ``ids``."""
    paths: list[str] = []

    def walk(patterns, namespace: str | None, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith("admin/"):
                    continue  # the admin is session-only: its pages redirect a stranger to the login
                walk(entry.url_patterns, entry.namespace or namespace, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                missing = set(entry.pattern.regex.groupindex) - set(ids)
                assert not missing, f"{prefix}{entry.pattern}: no seeded id for {sorted(missing)}; seed one"
                assert entry.name, f"{prefix}{entry.pattern} has no name to reverse"
                paths.append(reverse(name, kwargs={key: ids[key] for key in entry.pattern.regex.groupindex}))

    walk(get_resolver().url_patterns, None, "")
    return sorted(set(paths))


def leaks(headers: dict, body: object) -> list[str]:
    text = (json.dumps(body) if not isinstance(body, str) else body) + json.dumps(headers)
    return [needle for needle in NEEDLES if needle.lower() in text.lower()]


@pytest.mark.standalone
@pytest.mark.slow
def test_no_route_shows_a_mentors_name_or_email_to_a_stranger(tmp_path, sqlite_env):
    env = {**sqlite_env, **UNTHROTTLED}
    done = manage("shell", "-c", SEED, env=env)
    assert done.returncode == 0, done.stderr
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    assert seeded["notices"] >= 1  # the notice addressed to the mentor exists to be leaked
    paths = routes(seeded["ids"])
    assert "/api/v1/certifications/export.csv" in paths and len(paths) > 20
    body = {"mentor_id": seeded["ids"]["mentor_id"], "mentor_ids": [seeded["ids"]["mentor_id"]], "reason": "x"}
    found = []
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        # The control: a caller allowed to see mentors does see the name, so the needles and the seed are right.
        mentor_url = f"{base}/api/v1/mentors/{seeded['ids']['mentor_id']}"
        assert leaks(*http("GET", mentor_url, token=seeded["viewer"])[1:])
        for caller, token in (("anonymous", None), ("no permission", seeded["nobody"])):
            for method in METHODS:
                for path in paths:
                    sent = body if method in ("POST", "PUT", "PATCH") else None
                    status, headers, answer = http(method, base + path, body=sent, token=token, follow=False)
                    if shown := leaks(headers, answer):
                        found.append(f"{caller} {method} {path}: {status} shows {shown}")
    assert not found, "\n".join(found)
