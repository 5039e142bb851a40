"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps the mails it receives, and the
`mail_server` and `smtp` fixtures every mail test uses (registered in tests/conftest.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from workflow.notifications.delivery import SmtpConfig, SmtpSecurity

BASE_URL = "https://aftaleflow.example.dk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailServer:
    """aiosmtpd on a free port of 127.0.0.1 that keeps every mail; it can be down (`stop`) or
    answer 421 for a while (`answer_421`). Keyword arguments go to aiosmtpd's Controller
    (TLS, authentication)."""

    def __init__(self, **controller_options: Any) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []  # the envelope's, as the server was asked to deliver
        self.answer_421 = 0
        self._options = controller_options
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer_421 > 0:
            self.answer_421 -= 1
            return "421 4.3.2 Service not available, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        self.recipients.extend(envelope.rcpt_tos)
        return "250 2.0.0 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **self._options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A running MailServer, stopped after the test."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(mail_server: MailServer) -> SmtpConfig:
    """Delivery to `mail_server` without TLS: four attempts (three after a refusal), a minute's
    backoff, a five-minute lease, and case links to BASE_URL."""
    return SmtpConfig(
        host="127.0.0.1",
        port=mail_server.port,
        security=SmtpSecurity.NONE,
        timeout=5,
        max_attempts=4,
        permanent_attempts=3,
        backoff_seconds=60,
        lease_seconds=300,
        base_url=BASE_URL,
    )
