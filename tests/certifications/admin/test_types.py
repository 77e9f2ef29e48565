"""The certification type pages: staff edit a type's policy (renewal window, grace, reminder days)."""

from __future__ import annotations

import pytest

from certifications.models import CertificationType

pytestmark = pytest.mark.django_db


def type_form(cert_type: CertificationType, **overrides) -> dict:
    data = {
        "code": cert_type.code,
        "name": cert_type.name,
        "validity_months": cert_type.validity_months,
        "is_active": "on" if cert_type.is_active else "",
        "renewal_window_days": cert_type.renewal_window_days,
        "grace_days": cert_type.grace_days,
        "reminder_days": "[90, 30, 7]",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def test_the_list_shows_each_types_policy(superuser_client):
    page = superuser_client.get("/admin/certifications/certificationtype/").content.decode()
    assert "Grace days" in page and "Renewal window days" in page and "[60, 14, 3]" in page


def test_staff_edit_the_policy_of_a_type(superuser_client):
    basic = CertificationType.objects.get(code="peer_mentor_basic")
    url = f"/admin/certifications/certificationtype/{basic.pk}/change/"
    response = superuser_client.post(url, type_form(basic, grace_days=14, reminder_days="[60, 30, 7, 1]"))
    assert response.status_code == 302, response.content.decode()[-2000:]
    basic.refresh_from_db()
    assert (basic.grace_days, basic.reminder_days) == (14, [60, 30, 7, 1])


@pytest.mark.parametrize(
    ("field", "value"),
    [("reminder_days", "[7, 7]"), ("reminder_days", "[0]"), ("reminder_days", '"7"'), ("grace_days", "-1")],
)
def test_a_policy_that_breaks_a_rule_is_refused_and_nothing_saved(superuser_client, field, value):
    basic = CertificationType.objects.get(code="peer_mentor_basic")
    url = f"/admin/certifications/certificationtype/{basic.pk}/change/"
    response = superuser_client.post(url, type_form(basic, **{field: value}))
    assert response.status_code == 200  # the form again, with the error
    assert "errornote" in response.content.decode()
    basic.refresh_from_db()
    assert (basic.grace_days, basic.reminder_days) == (0, [90, 30, 7])
