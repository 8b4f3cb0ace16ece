"""Refuse calendar addresses that point into the server's own network (SSRF), unless allowed.

Staff type CalDAV and ICS addresses; the sync then fetches them from the server. In production
an address resolving to a loopback, private, link-local or reserved IP is refused, so a staff
member cannot make jasa read internal services. Development and tests allow them (local servers);
``JASA_CALENDAR_ALLOW_PRIVATE_URLS`` overrides either way.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from jasa.calendars.adapters.base import CalendarError


def _allowed() -> bool:
    value = getattr(settings, "JASA_CALENDAR_ALLOW_PRIVATE_URLS", None)
    return (not settings.PRODUCTION) if value is None else bool(value)


def check_public_url(url: str) -> None:
    if _allowed():
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        raise CalendarError(_("The calendar server %(host)s was not found.") % {"host": host})
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise CalendarError(_("This address points inside the server's own network and is refused."))
