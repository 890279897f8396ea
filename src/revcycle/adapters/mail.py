"""Sending e-mail: one small interface, an outbox on disk by default, SMTP when configured.

A :class:`MailMessage` is plain values (recipients, subject, a text body, attachments as
bytes); a :class:`Mailer` sends it. Three mailers share the interface:

* :class:`OutboxMailer` (the default) writes each message as an ``.eml`` file into a directory
  (``var/outbox``, or ``REVCYCLE_MAIL_OUTBOX_DIR``): a developer or a newcomer opens it in any
  mail program, and nothing leaves the machine;
* :class:`SmtpMailer` hands it to an SMTP server (``REVCYCLE_SMTP_*`` settings; the password is
  read from the file ``REVCYCLE_SMTP_PASSWORD_FILE`` names, never from the database);
* :class:`MemoryMailer` keeps messages in a list, for tests.

:func:`mailer_from_settings` picks one by ``REVCYCLE_MAIL_BACKEND`` (outbox | smtp).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from revcycle.config import Settings

__all__ = [
    "Attachment",
    "MailMessage",
    "Mailer",
    "MemoryMailer",
    "OutboxMailer",
    "SmtpMailer",
    "mailer_from_settings",
    "to_email",
]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str = "application/octet-stream"  # e.g. "application/pdf"


@dataclass(frozen=True)
class MailMessage:
    to: tuple[str, ...]
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    sender: str = ""  # the mailer's default sender when empty


def to_email(message: MailMessage, *, sender: str, sent_at: datetime | None = None) -> EmailMessage:
    """The message as a standard e-mail (headers, text body, attachments)."""
    if not message.to:
        raise ValueError("a message needs at least one recipient")
    email = EmailMessage()
    email["From"] = message.sender or sender
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at or datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain="revcycle.local")
    email.set_content(message.text)
    for attachment in message.attachments:
        main, _, sub = attachment.media_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=main, subtype=sub or "octet-stream", filename=attachment.filename
        )
    return email


class Mailer(Protocol):
    def send(self, message: MailMessage) -> str:
        """Send ``message``; answer where it went (a file path, a message id)."""
        ...


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "message"


@dataclass
class OutboxMailer:
    """Writes each message as ``<UTC time>-<subject>-<hash>.eml`` in ``directory``."""

    directory: Path
    sender: str = "revcycle@localhost"

    def send(self, message: MailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        data = to_email(message, sender=self.sender, sent_at=now).as_bytes()
        digest = hashlib.sha256(data).hexdigest()[:10]
        path = self.directory / f"{now:%Y%m%dT%H%M%S}-{_slug(message.subject)}-{digest}.eml"
        path.write_bytes(data)
        return str(path)


@dataclass
class SmtpMailer:
    """Hands messages to an SMTP server (STARTTLS unless ``starttls`` is off)."""

    host: str
    port: int = 587
    user: str = ""
    password_file: Path | None = None
    sender: str = "revcycle@localhost"
    starttls: bool = True
    timeout_s: float = 30.0

    def _password(self) -> str:
        if self.password_file is None:
            return ""
        return self.password_file.read_text(encoding="utf-8").strip()

    def send(self, message: MailMessage) -> str:
        email = to_email(message, sender=self.sender)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self._password())
            smtp.send_message(email)
        return str(email["Message-ID"])


@dataclass
class MemoryMailer:
    """Keeps what it is asked to send (tests, dry runs)."""

    sent: list[MailMessage] = field(default_factory=list)

    def send(self, message: MailMessage) -> str:
        self.sent.append(message)
        return f"memory:{len(self.sent)}"


def mailer_from_settings(settings: Settings) -> Mailer:
    """The mailer the settings choose: the outbox unless ``mail_backend`` is smtp."""
    if settings.mail_backend == "smtp":
        if not settings.smtp_host:
            raise ValueError("REVCYCLE_SMTP_HOST must be set when REVCYCLE_MAIL_BACKEND is smtp")
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password_file=settings.smtp_password_file,
            sender=settings.mail_sender,
            starttls=settings.smtp_starttls,
        )
    return OutboxMailer(settings.mail_outbox_path, sender=settings.mail_sender)
