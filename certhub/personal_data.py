"""The signal a personal-data export or erasure sends, so that the security log records it.

The export and the erasure belong to the domain (DESIGN "Personal data"); the
security log belongs to ``access``, which the domain never imports. The write
that hands out or erases a person's data sends :data:`personal_data_handled`
in its transaction; ``access.security_log`` receives it and appends the row.
"""

from __future__ import annotations

from django.dispatch import Signal

EXPORTED = "exported"
ERASED = "erased"

# Sent with: action (EXPORTED or ERASED), subject (e.g. the mentor_id), actor (the user, or None
# for a command), request (or None), now, detail (e.g. an erasure's reason).
personal_data_handled = Signal()
