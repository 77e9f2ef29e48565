"""Access records: API keys for machines and the security log.

Both are platform concerns: the domain never imports them. A key's secret is
never stored, only its keyed hash (decision 0039); the security log is
append-only (written by ``access.security_log``, read-only in the admin).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from certhub.api.scopes import SCOPES


class ApiKey(models.Model):
    """A key an integration sends as ``Authorization: Bearer chk_...`` (or ``Token chk_...``).

    ``secret_hash`` is HMAC-SHA256 of the secret under a key derived from
    ``SECRET_KEY``; the secret itself is shown once and never kept. A key acts as
    its ``user`` restricted to its ``scopes``; it stops at ``expires_at`` or
    ``revoked_at``. ``last_used_at`` is written at most once a minute.
    """

    key_id = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list, help_text="Names from: " + ", ".join(SCOPES))
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="api_key_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.name})"


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    FACTOR_FAILED = "factor_failed", "Second factor refused"
    FACTOR_ENROLLED = "factor_enrolled", "Second factor enrolled"
    FACTOR_RESET = "factor_reset", "Second factor reset"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
    KEY_CREATED = "key_created", "API key created"
    KEY_REVOKED = "key_revoked", "API key revoked"
    PERSONAL_DATA_EXPORTED = "personal_data_exported", "Personal data exported"
    PERSONAL_DATA_ERASED = "personal_data_erased", "Personal data erased"


class SecurityEvent(models.Model):
    """One row of the security log: what happened, to whom, by whom, from where and when.

    ``user`` is the account concerned (null when a failed sign-in named no
    account that exists; ``username`` keeps what was typed), ``actor`` who acted
    (a superuser resetting someone's factor; the user themself otherwise).
    """

    kind = models.CharField(max_length=32, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "security event"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["user", "-occurred_at"], name="security_event_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or self.user_id} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
