"""Filter conventions: strict values, timestamps with a zone, comma lists, orderings with a tie-break."""

from __future__ import annotations

import copy

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend

from certhub.api.fields import parse_timestamp


class _SharedFields(dict):
    """A form class's fields, shared by its instances: the deep copy each form makes of them is a shallow one."""

    def __deepcopy__(self, memo):
        return dict(self)


class FilterSet(django_filters.FilterSet):
    """A filter set that builds its form class once per class and copies nothing deeply per request.

    django-filter builds a new form class, with a new form field for every
    filter, on each request, deep-copies every filter for each filter set, and
    the form deep-copies every field again: together about half of a cheap
    list request's Python time. Neither filters nor fields are changed by a
    request here (they are only read to validate and filter), so one form
    class serves every request, each filter set holds shallow copies of the
    filters (each with its own ``parent``), and each form shares its class's
    fields. Filter sets whose filters vary per request must not use this base.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter's own __init__, with shallow copies of the filters instead of deep ones.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    @property
    def qs(self):
        """django-filter's ``qs`` without its first clone (``queryset.all()``) when a filter makes a new one anyway."""
        if not hasattr(self, "_qs"):
            qs = self.queryset
            if self.is_bound:
                self.errors  # noqa: B018 -- validates the form first, as django-filter does
                qs = self.filter_queryset(qs)
            self._qs = qs.all() if qs is self.queryset else qs
        return self._qs

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            plain = form_class._clean_fields is forms.Form._clean_fields  # a form of its own cleans as it says
            if plain and all(_plainly_cleaned(field) for field in form_class.base_fields.values()):
                form_class = type(form_class.__name__, (_CleanedWithoutBoundFields, form_class), {})
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class  # a race only builds an identical class twice
        return form_class


def _plainly_cleaned(field: forms.Field) -> bool:
    """Whether Django cleans ``field`` from its widget's value alone (not disabled, not a file)."""
    return not field.disabled and type(field)._clean_bound_field is forms.Field._clean_bound_field


class _CleanedWithoutBoundFields(forms.Form):
    """A filter form that cleans each field from its widget's value without building a ``BoundField``.

    Django's ``_clean_fields`` builds a bound field per field to read the same
    value (``bf.data``: the widget's ``value_from_datadict`` under the prefixed
    name) and calls ``field.clean`` on it; for a form of fields that are
    neither disabled nor files (``_plainly_cleaned``) this is the same steps,
    the same errors, in the same order.

    A field the query string does not name (``value_omitted_from_data``) that
    is not required and has no ``clean_<name>`` is left out of ``cleaned_data``
    instead of cleaned to its empty value, so its filter is not applied: an
    empty value filters nothing (django-filter's filters, and this module's).
    A request naming one filter cleans and applies that one alone. An error is
    kept without its traceback, so the request's frames are not kept with it.
    """

    def _clean_fields(self):
        data, files = self.data, self.files
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            if (
                not field.required
                and field.widget.value_omitted_from_data(data, files, key)
                and not hasattr(self, f"clean_{name}")
            ):
                continue
            try:
                self.cleaned_data[name] = field.clean(field.widget.value_from_datadict(data, files, key))
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as exc:
                # Kept in the form's errors without its traceback, whose frames lead back to the view.
                exc.__context__ = None
                self.add_error(name, exc.with_traceback(None))


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping the request's filter set on the view (``view.filterset``).

    A view that needs the validated filters again (the list's maintained total)
    reads them there instead of validating them twice.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        view.filterset = filterset
        return filterset

    def filter_queryset(self, request, queryset, view):
        """The filtered queryset; a request that names no filter keeps it as it is, without building a form.

        Such a request leaves ``view.filterset`` None: there is nothing to validate.
        """
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and request.query_params.keys().isdisjoint(filterset_class.base_filters):
            view.filterset = None
            return queryset
        return super().filter_queryset(request, queryset, view)


class TimestampFormField(forms.Field):
    """A query-string timestamp: ISO 8601 with a zone, or a bare date (midnight UTC)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TimestampFilter(django_filters.Filter):
    field_class = TimestampFormField


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true`` or ``false``; anything else is a 400 (django-filter's default silently ignores it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{self.field_name: value == "true"})


def without_empty_items(values) -> list:
    """A comma list's items, the empty ones dropped: ``status=,`` means what ``status=`` means (no filter)."""
    return [value for value in values or () if value not in ("", None)]


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """A comma-separated list of choices, each checked; empty items are dropped."""

    def filter(self, qs, value):
        value = without_empty_items(value)
        if not value:
            return qs
        return super().filter(qs, value)


class TieBreakOrderingFilter(django_filters.OrderingFilter):
    """Ordering over named fields; ties broken by ``tie_break`` in the same direction."""

    def __init__(self, *args, tie_break: str, **kwargs):
        self.tie_break = tie_break
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        value = without_empty_items(value)
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        last = ordering[-1]
        ordering.append(f"-{self.tie_break}" if last.startswith("-") else self.tie_break)
        return qs.order_by(*ordering)
