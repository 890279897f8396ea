"""The mail adapter: messages as standard e-mail, the outbox on disk, the mailer the settings
choose. No test sends real mail."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from revcycle.adapters.mail import (
    Attachment,
    MailMessage,
    MemoryMailer,
    OutboxMailer,
    SmtpMailer,
    mailer_from_settings,
    to_email,
)
from revcycle.config import Settings

MESSAGE = MailMessage(
    to=("director@example.test", "admin@example.test"),
    subject="Monthly report, October 2026",
    text="Attached.",
    attachments=(Attachment("report.pdf", b"%PDF-1.7 fake", "application/pdf"),),
)


def test_a_message_becomes_a_standard_email() -> None:
    email = to_email(MESSAGE, sender="revcycle@example.test")
    assert email["To"] == "director@example.test, admin@example.test"
    assert email["From"] == "revcycle@example.test"
    assert email.get_body(("plain",)).get_content().strip() == "Attached."  # type: ignore[union-attr]
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == b"%PDF-1.7 fake"
    with pytest.raises(ValueError, match="recipient"):
        to_email(MailMessage(to=(), subject="x", text="y"), sender="a@b")


def test_the_outbox_writes_one_eml_per_message(tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    where = outbox.send(MESSAGE)
    [path] = list((tmp_path / "outbox").iterdir())
    assert str(path) == where
    assert path.suffix == ".eml"
    assert "monthly-report-october-2026" in path.name
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["Subject"] == MESSAGE.subject
    assert [a.get_filename() for a in parsed.iter_attachments()] == ["report.pdf"]


def test_the_settings_choose_the_mailer(tmp_path: Path) -> None:
    default = mailer_from_settings(Settings(var_dir=tmp_path))
    assert isinstance(default, OutboxMailer)
    assert default.directory == tmp_path / "outbox"
    chosen = mailer_from_settings(Settings(var_dir=tmp_path, mail_outbox_dir=tmp_path / "elsewhere"))
    assert isinstance(chosen, OutboxMailer)
    assert chosen.directory == tmp_path / "elsewhere"
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    smtp = mailer_from_settings(
        Settings(mail_backend="smtp", smtp_host="mail.example.test", smtp_user="u", smtp_password_file=secret)
    )
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.host, smtp.port, smtp.user) == ("mail.example.test", 587, "u")
    assert smtp._password() == "s3cret"  # read from the file, never stored elsewhere
    with pytest.raises(ValueError, match="REVCYCLE_SMTP_HOST"):
        mailer_from_settings(Settings(mail_backend="smtp"))


def test_the_memory_mailer_keeps_what_it_sends() -> None:
    mailer = MemoryMailer()
    assert mailer.send(MESSAGE) == "memory:1"
    assert mailer.sent == [MESSAGE]
