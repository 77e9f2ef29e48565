"""The apps that react to a write, plugged into the domain's effects at start-up (decision 0029).

``certifications`` does not import the apps that react to its writes (events,
notifications). Each of them keeps its share of a write's consequences in its
``effects`` module, one function per hook of ``Receiver``, and registers that
module from its ``AppConfig.ready()``. ``certifications.services.effects``
calls every registered receiver, in ``INSTALLED_APPS`` order (the order Django
runs ``ready()``), after the domain's own consequences (history, totals),
inside the write's transaction; the job's set-based writes call the same hooks
with primary keys, which is why these are explicit calls and not signals.

Nothing is left to chance: ``register`` refuses a receiver that lacks a hook or
whose hook takes other arguments than the domain passes, ``receivers()``
refuses to answer before every ``ready()`` has run, and the check
``certifications.E001`` (``manage.py check``, run by every command, the test
suite and deployment) fails when an installed app has an ``effects`` module
that its ``ready()`` did not register.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import AppConfig, apps
from django.core import checks
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

if TYPE_CHECKING:
    from certifications.changes import CertificationChange, MentorChange, RenewalRequestChange
    from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, Mentor, RenewalRequest

DOMAIN = "certifications"
MODULE = "effects"  # where a reacting app keeps its receiver


@dataclass(frozen=True)
class BatchPart:
    """Writes of one job batch as ``WITH`` items of the batch's own statement (PostgreSQL, decision 0051).

    ``ctes`` is one or more ``name AS (...)`` items, data-modifying, that read
    the statement's ``flagged`` (``id``, ``mentor_id``, ``reason``: each record
    the batch flagged) and ``paused`` (``id``, ``public_id``, ``email``, ``reason``,
    ``cert_id``: each mentor it paused, its public ``mentor_id``, the address,
    the new pause reason and the lowest flagged record that reason came from); its names and those of its named
    ``params`` start with the owner's own prefix. ``answer`` is one SQL
    expression over those items, read back from the statement's answer row and
    given to ``done`` (after-commit work, a rare retry), or None.
    """

    ctes: str
    params: Mapping[str, Any]
    answer: str | None = None
    done: Callable[[Any], None] | None = None


class Receiver(Protocol):
    """What an app adds to a write's consequences: one function per hook, inside the write's transaction.

    A receiver is usually a module (``events.effects``, ``notifications.effects``);
    a hook it has nothing to add to is a function that does nothing.
    """

    def certification_written(
        self, *, change: CertificationChange, before: dict[str, Any] | None, after: Certification, now: dt.datetime
    ) -> None:
        """One certification was written; ``change`` is its derived kind, ``before`` None on a create."""

    def certifications_created(self, *, pks: Sequence[int], now: dt.datetime) -> None:
        """A bulk create wrote the certifications ``pks`` (in the database, read them there)."""

    def mentor_written(
        self,
        *,
        change: MentorChange,
        before: dict[str, Any] | None,
        after: Mentor,
        now: dt.datetime,
        log: AutoPauseLog | None,
    ) -> None:
        """A mentor was created, edited, paused, resumed or erased; ``log`` is an automatic resume's log row.

        On ``erased`` each app blanks the copies of the mentor's name, address and
        free text it keeps (``services.personal_data``), in the erasure's transaction.
        """

    def renewal_request_written(
        self, *, change: RenewalRequestChange, request: RenewalRequest, now: dt.datetime
    ) -> None:
        """A renewal request was submitted, approved, rejected or withdrawn (``change``); ``request`` as written."""

    def mentor_exported(self, *, mentor: Mentor) -> dict[str, Any]:
        """The members this app adds to ``mentor``'s personal-data export: ``{file name: JSON-able data}``."""
        return {}

    def job_records_expired(self, *, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
        """The job's step 1 expired the certifications ``pks`` (one chunk)."""

    def job_batch_parts(self, *, now: dt.datetime, run: ExpiryJobRun) -> Sequence[BatchPart]:
        """On PostgreSQL, this app's writes for each job batch as parts of the batch's statement (none: ``()``)."""
        return ()

    def job_batch_applied(
        self,
        *,
        flagged: Sequence[int],
        paused: Sequence[int],
        now: dt.datetime,
        run: ExpiryJobRun,
        in_statement: bool,
    ) -> None:
        """A job batch flagged the certifications ``flagged`` and paused the mentors ``paused``.

        ``in_statement``: the batch's statement already wrote this app's
        ``job_batch_parts``; write only what they do not cover.
        """

    def job_run_finished(self, *, run: ExpiryJobRun) -> None:
        """A non-dry run ended and its record is saved."""


HOOKS = tuple(name for name in vars(Receiver) if not name.startswith("_"))

# The registered receivers by app label, in registration (``ready()``) order.
_registered: dict[str, Receiver] = {}


def register(app_config: AppConfig, receiver: Receiver) -> None:
    """Plug ``receiver`` (``app_config``'s ``effects`` module) into every write's consequences.

    Called from ``app_config.ready()``. A second call for the same app replaces
    its receiver in place (``ready()`` can run again when a test repopulates the
    app registry). A missing hook or one whose keyword arguments differ from the
    domain's is an ``ImproperlyConfigured`` at start-up, not a write that
    silently lacks its consequences.
    """
    for hook in HOOKS:
        expected = _keywords(getattr(Receiver, hook))
        function = getattr(receiver, hook, None)
        if not callable(function):
            raise ImproperlyConfigured(f"{app_config.label}: its receiver has no {hook}() hook.")
        if (taken := _keywords(function)) != expected:
            raise ImproperlyConfigured(
                f"{app_config.label}: {hook}() takes {sorted(taken)}, the domain passes {sorted(expected)}."
            )
    _registered[app_config.label] = receiver


def receivers() -> tuple[Receiver, ...]:
    """The registered receivers, in ``INSTALLED_APPS`` order; only once every app's ``ready()`` has run."""
    if not apps.ready:
        raise AppRegistryNotReady("A write before django.setup() finished would miss the reacting apps' effects.")
    return tuple(_registered.values())


def registered_labels() -> list[str]:
    return list(_registered)


def _keywords(function: Any) -> set[str]:
    return {name for name in inspect.signature(function).parameters if name != "self"}


def reacting_apps() -> list[str]:
    """Labels of the installed apps outside the domain that have an ``effects`` module, in ``INSTALLED_APPS`` order."""
    return [
        config.label
        for config in apps.get_app_configs()
        if config.name != DOMAIN
        and not config.name.startswith(f"{DOMAIN}.")
        and module_has_submodule(config.module, MODULE)
    ]


def check_receivers(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``certifications.E001``: every reacting app registered its receiver, and only installed apps did."""
    expected = reacting_apps()
    registered = registered_labels()
    if registered == expected:
        return []
    return [
        checks.Error(
            f"The write receivers registered are {registered}; the installed apps with an effects module "
            f"are {expected}.",
            hint="Each of those apps registers its effects module from its AppConfig.ready() "
            "(certifications.services.receivers.register), and nothing else does.",
            id="certifications.E001",
        )
    ]
