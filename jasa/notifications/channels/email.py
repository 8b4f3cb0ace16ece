"""Email through Django's configured backend.

SMTP by default (EMAIL_HOST ...). For a provider API set EMAIL_BACKEND to a django-anymail
backend (e.g. ``anymail.backends.mailgun.EmailBackend``, after ``pip install django-anymail``
and its ANYMAIL settings); nothing here changes.
"""

from __future__ import annotations

import base64
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from jasa.notifications.channels import DeliveryError
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import Rendered


def _from_address(message: OutboxMessage) -> str:
    # The business's name, jasa's sending address (so SPF/DKIM of the deployment apply).
    default = str(settings.DEFAULT_FROM_EMAIL)
    _, address = parseaddr(default)
    return formataddr((message.workspace.name, address)) if address else default


def _attachment(item: dict) -> MIMEBase:
    content_type = item.get("content_type") or "application/octet-stream"
    maintype, _, rest = content_type.partition("/")
    subtype, *params = [p.strip() for p in rest.split(";")]
    data = base64.b64decode(item["data_b64"])
    part: MIMEBase
    if maintype == "text":
        part = MIMEText(data.decode("utf-8"), subtype, "utf-8")
    else:
        from email import encoders

        part = MIMEBase(maintype, subtype)
        part.set_payload(data)
        encoders.encode_base64(part)
    for param in params:  # e.g. text/calendar; method=REQUEST
        name, _, value = param.partition("=")
        part.set_param(name.strip(), value.strip().strip('"'))
    part.add_header("Content-Disposition", "attachment", filename=item["filename"])
    return part


def send(message: OutboxMessage, rendered: Rendered) -> str:
    mail = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=_from_address(message),
        to=[message.recipient],
        reply_to=[message.workspace.email] if message.workspace.email else None,
        headers={"X-Jasa-Message": str(message.pk)},
    )
    if rendered.html:
        mail.attach_alternative(rendered.html, "text/html")
    for item in message.attachments:
        mail.attach(_attachment(item))
    try:
        sent = mail.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - SMTP and provider errors differ; all are a failed delivery
        raise DeliveryError(f"email to {message.recipient} failed: {exc.__class__.__name__}: {exc}")
    if not sent:
        raise DeliveryError(f"the email backend accepted no message for {message.recipient}")
    # anymail backends report the provider's id here; SMTP has none
    status = getattr(mail, "anymail_status", None)
    return str(getattr(status, "message_id", "") or mail.extra_headers.get("Message-ID", "") or "")
