"""A real SMTP server on loopback (aiosmtpd), and the settings that send to it."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What the server received; ``refuse`` answers the next N messages with a 451 instead."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def parts(message: email.message.EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of ``message``."""
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """An SMTP server on 127.0.0.1 (a free port), and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_USE_TLS = False
        settings.DEFAULT_FROM_EMAIL = "certhub@program.example"
        settings.PROGRAM_CONTACT_EMAIL = "renewals@program.example"
        yield inbox
    finally:
        controller.stop()
