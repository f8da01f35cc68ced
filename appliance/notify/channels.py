"""Sending one notice: ntfy / webhook over HTTP (aiohttp client) and e-mail over SMTP (smtplib in a
worker thread, so the loop never waits on a mail server). Each send is bounded by a timeout and
either returns or raises :class:`SendError` with a sentence for the person."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp

from appliance.notify.config import NotifyConfig

TIMEOUT = 15.0


class SendError(Exception):
    pass


@dataclass(frozen=True)
class Notice:
    key: str  # the condition it reports; sent once each time the condition starts
    title: str
    message: str
    priority: str = "default"  # ntfy: min, low, default, high, urgent


async def send_webhook(session: aiohttp.ClientSession, url: str, notice: Notice) -> None:
    """ntfy's publish API: POST the message as text, the title and priority as headers. Any other
    webhook receives the same plain-text POST."""
    headers = {"Title": notice.title.encode("ascii", "replace").decode(), "Priority": notice.priority,
               "Tags": "smeshbox", "Content-Type": "text/plain; charset=utf-8"}
    try:
        async with asyncio.timeout(TIMEOUT):
            async with session.post(url, data=notice.message.encode(), headers=headers,
                                    allow_redirects=False) as resp:
                await resp.content.read(4096)
                if resp.status >= 300:
                    raise SendError(f"the notification server answered HTTP {resp.status}")
    except TimeoutError as exc:
        raise SendError(f"the notification server did not answer within {TIMEOUT:g} s") from exc
    except aiohttp.ClientError as exc:
        raise SendError(f"could not reach the notification server ({exc.__class__.__name__})") from exc


def _mail(config: NotifyConfig, notice: Notice) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"Smeshbox: {notice.title}"
    msg["From"], msg["To"] = config.mail_from, config.mail_to
    msg.set_content(notice.message)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError("the mail server refused the user name or password") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError("the mail server does not offer STARTTLS; "
                        "switch it off only on a trusted LAN") from exc
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise SendError(f"the mail could not be sent: {exc}"[:300]) from exc


async def send_mail(config: NotifyConfig, notice: Notice) -> None:
    await asyncio.to_thread(_mail, config, notice)
