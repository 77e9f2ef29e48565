"""Platform models: what the API conventions need to remember between requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a user sent to a write endpoint, and the answer it got.

    The row is written (in its own transaction, guarded by the unique
    constraint) before the write runs, so a concurrent duplicate finds it and
    never executes; ``status_code`` stays null while the first request runs and
    then holds the remembered response. Rows expire ``IDEMPOTENCY_KEY_TTL_HOURS``
    after ``created_at``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the endpoint, method and request body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]
        verbose_name_plural = "idempotency keys"

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class LoginFailure(models.Model):
    """Failed admin logins counted for one key (an address, or an address and a username).

    Kept in the database so that every web process and machine shares one count,
    with or without Redis, and a lost cache forgets nothing. ``key`` is a SHA-256
    hex digest: neither addresses nor usernames are stored verbatim. A row counts
    until ``window_ends_at``; the next failure after that starts a new window.
    """

    key = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "login failures"

    def __str__(self) -> str:
        return f"{self.key[:12]}: {self.count}"
