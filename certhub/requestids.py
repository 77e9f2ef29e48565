"""Request ids: taken from ``X-Request-ID`` (when valid) or made, echoed, on every log line, carried into tasks.

The id of the work in progress lives in a context variable: the middleware sets it
for a request, ``task_started`` for a Celery task (from the message header that
``task_published`` put on the messages the request enqueued). ``certhub.logs``
reads it for every log line.
"""

from __future__ import annotations

import contextvars
import re
import uuid

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
MESSAGE_HEADER = "request_id"
VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# The Celery task running in this context, as (name, id); None outside a task.
running_task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("running_task", default=None)


def accepted(value: str | None) -> str:
    """The client's id when it is at most 64 of ``[A-Za-z0-9._-]``, otherwise a new one."""
    if value and VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give every request an id (its own ``X-Request-ID`` when valid) and echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = accepted(request.headers.get(HEADER))
        request.request_id = rid
        # Kept until the request is finished (``request_ended``), so Django's own lines about
        # the answer (``django.request``, written after the middleware) carry it too.
        request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


def request_ended(**_) -> None:
    """``request_finished``: the thread is between requests again."""
    request_id.set("")


# --- Celery: carried on the message, restored in the worker (connected in CerthubConfig.ready) ---


def task_published(headers: dict | None = None, **_) -> None:
    """``before_task_publish``: put the current request id on the message."""
    rid = request_id.get()
    if rid and headers is not None and MESSAGE_HEADER not in headers:
        headers[MESSAGE_HEADER] = rid


def task_started(task_id: str | None = None, task=None, **_) -> None:
    """``task_prerun``: the task's request id (from its message, or a new one) and its name and id on log lines."""
    carried = getattr(task.request, MESSAGE_HEADER, None) if task is not None else None
    request_id.set(accepted(carried))
    running_task.set((getattr(task, "name", ""), task_id or ""))


def task_ended(**_) -> None:
    """``task_postrun``: the worker process is between tasks again."""
    request_id.set("")
    running_task.set(None)
