"""The events' share of a mentor's personal-data export: every event whose data names the mentor."""

from __future__ import annotations

from typing import Any

from certhub.api.fields import format_utc
from certifications.models import Mentor
from events.models import Event

MEMBER = "events.json"


def mentor_exported(*, mentor: Mentor) -> dict[str, Any]:
    """``events.json``: the events about ``mentor`` (their data names the mentor's id), oldest first."""
    events = Event.objects.filter(data__mentor_id=mentor.mentor_id).order_by("id")
    return {
        MEMBER: [
            {
                "event_id": event.event_id,
                "type": event.type,
                "occurred_at": format_utc(event.occurred_at),
                "sequence": event.sequence,
                "data": event.data,
            }
            for event in events.iterator(chunk_size=1000)
        ]
    }
