"""The history of every change to a certification, a mentor or a certification type.

``Actor`` says who asked for a write (a user, or the system with its source)
and why; the write services take one as ``by`` and hand it to the effects,
which call ``record`` here inside the write's transaction. The job's batches
write their rows set-based (``record.rows_changed``), a fixed number of
statements whatever the batch size.
"""

from certifications.history.actor import Actor, Source

__all__ = ["Actor", "Source"]
