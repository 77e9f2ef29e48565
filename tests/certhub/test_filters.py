"""The filter sets' shared form class and shallow copies: one request's filters never reach another's."""

from __future__ import annotations

import threading

import pytest
from django.http import QueryDict

from certifications.api.filters import CertificationFilter
from certifications.models import Certification


def _filterset(query: str) -> CertificationFilter:
    return CertificationFilter(QueryDict(query), queryset=Certification.objects.all())


def test_each_filter_set_has_its_own_filters_and_form_over_one_form_class():
    first, second = _filterset("status=valid"), _filterset("status=bogus")

    assert type(first.form) is type(second.form)
    assert first.form.fields["status"] is second.form.fields["status"]  # shared, never copied per request
    assert first.form.fields is not second.form.fields
    assert first.filters["status"] is not second.filters["status"]
    assert first.filters["status"].parent is first and second.filters["status"].parent is second
    assert "parent" not in vars(CertificationFilter.base_filters["status"])
    assert first.is_valid() and not second.is_valid()
    assert first.form.cleaned_data["status"] == ["valid"] and "status" in second.errors
    assert not first.errors  # the second form's errors are its own


def test_filter_sets_validated_at_once_in_threads_keep_their_own_values():
    queries = [f"status={status}&limit=1" for status in ("valid", "expired", "revoked", "nope")] * 25
    results: dict[int, object] = {}
    barrier = threading.Barrier(4)

    def validate(index_range: range) -> None:
        barrier.wait()
        for index in index_range:
            filterset = _filterset(queries[index])
            results[index] = filterset.form.cleaned_data["status"] if filterset.is_valid() else "invalid"

    threads = [threading.Thread(target=validate, args=(range(i, len(queries), 4),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    expected = {
        index: "invalid" if "nope" in query else [query[7:].split("&")[0]] for index, query in enumerate(queries)
    }
    assert results == expected


def _listed(query: str):
    """The list view's queryset after the filter backend, and the filter set it left on the view."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from certhub.api.filters import FilterBackend
    from certifications.api.views import CertificationViewSet

    view = CertificationViewSet(action="list", format_kwarg=None)
    view.request = Request(APIRequestFactory().get("/api/v1/certifications", QueryDict(query)))
    queryset = Certification.objects.all()
    return queryset, FilterBackend().filter_queryset(view.request, queryset, view), view.filterset


def test_a_list_that_names_no_filter_builds_no_filter_set():
    queryset, filtered, filterset = _listed("page=2&limit=5")
    assert filtered is queryset and filterset is None

    queryset, filtered, filterset = _listed("status=")  # named, even empty: validated as before
    assert isinstance(filterset, CertificationFilter) and filterset.is_valid()


# The list's filter values, valid and not, alone and together (several errors at once among them).
FORM_QUERIES = [
    "",
    "status=valid",
    "status=valid,expired&expires_before=2026-01-01T00:00:00Z",
    "status=,",
    "status=lapsed",
    "status=valid,lapsed&auto_pause_applied=yes&expires_after=2026-02-30",
    "mentor_id=mntr_0000ALICE&ordering=-expires_at,issued_at",
    "mentor_id=nobody&ordering=bogus&issued_before=tomorrow",
    "auto_pause_applied=true&issued_after=2025-01-01&expires_after=2027-06-15T02:00:00+02:00",
    "expires_before=2026-03-01T00:00:00&expires_before=2027-01-01T00:00:00Z",
    "certification_type=&status=&ordering=",
    "colour=blue&page=2",
]


@pytest.mark.parametrize("query", FORM_QUERIES)
def test_the_filter_form_cleans_as_djangos_own_form(query):
    """The form that cleans without bound fields gives Django's errors and cleaned data, in the same order,
    leaving out the fields the query string does not name; the filtered query is the same."""
    import django_filters

    filterset = _filterset(query)
    own = filterset.form
    djangos = django_filters.FilterSet.get_form_class(filterset)(filterset.data)  # the plain form class

    assert type(own).__mro__[1].__name__ == "_CleanedWithoutBoundFields"
    assert own.is_valid() == djangos.is_valid()
    assert own.errors.get_json_data() == djangos.errors.get_json_data()
    named = [(name, value) for name, value in djangos.cleaned_data.items() if name in filterset.data]
    assert list(own.cleaned_data.items()) == named
    if own.is_valid():  # every filter applied with Django's cleaned data, the unnamed ones to their empty values
        queryset = Certification.objects.all()
        expected = queryset
        for name, value in djangos.cleaned_data.items():
            expected = filterset.filters[name].filter(expected, value)
        assert str(CertificationFilter(filterset.data, queryset=queryset).qs.query) == str(expected.query)


@pytest.mark.django_db
def test_the_filtered_queryset_is_a_new_one_whether_or_not_a_filter_applies():
    queryset = Certification.objects.all()
    for query in ("status=valid", "status=", "ordering=expires_at"):
        filterset = CertificationFilter(QueryDict(query), queryset=queryset)
        assert filterset.is_valid() and filterset.qs is not queryset
    assert str(CertificationFilter(QueryDict("status="), queryset=queryset).qs.query) == str(queryset.query)
