"""Serializer conventions shared by every endpoint."""

from __future__ import annotations

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses body fields the operation does not accept, naming each one, and text fields given as non-strings.

    ``read_only_names`` lists fields of the resource that exist but cannot be
    written by this operation; they get "read-only" rather than "unknown".
    A text field (any ``CharField``) takes a JSON string only: DRF's own would
    store the number 0 as "0".
    """

    read_only_names: frozenset[str] = frozenset()
    # The fewest fields a body must send (the schema's ``minProperties``); the serializer's
    # ``validate`` says why in its 400.
    min_fields: int = 0

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {}
            for name in data:
                if name in writable:
                    continue
                if name in self.fields or name in self.read_only_names:
                    unknown[name] = ["This field is read-only."]
                else:
                    unknown[name] = ["Unknown field."]
            if unknown:
                raise serializers.ValidationError(unknown)
            not_text = {
                name: [StrictCharField.default_error_messages["invalid"]]
                for name, value in data.items()
                if isinstance(self.fields[name], serializers.CharField) and not isinstance(value, str | None)
            }
            if not_text:
                raise serializers.ValidationError(not_text)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would store the number 0 as "0")."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean and nothing else (no "yes", 1 or "true")."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")
