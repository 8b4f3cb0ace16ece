"""The dashboard navigation and the client portal's sections.

Each nav item names the URL it links to and the capability it needs. A URL that is not
defined (yet) simply leaves its item out, so apps can add their pages in any order:
name the page's URL as listed here, taking the workspace slug as ``ws``.
Apps add client-portal sections with :func:`portal_section` from their AppConfig.ready().
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jasa.accounts.permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    capabilities: tuple[str, ...]  # any one of them shows the item


NAV: list[NavItem] = [
    NavItem(_("Dashboard"), "web:dashboard", ("workspace.view",)),
    NavItem(_("Bookings"), "bookings:dashboard", ("bookings.view_all", "bookings.view_own")),
    NavItem(_("Offers"), "catalog:dashboard", ("offers.view",)),
    NavItem(_("Availability"), "bookings:availability", ("availability.manage_own", "availability.manage_all")),
    NavItem(_("Payments"), "payments:dashboard", ("payments.view",)),
    NavItem(_("Invoices"), "payments:invoices", ("invoices.manage",)),
    NavItem(_("Reports"), "payments:reports", ("reports.view",)),
    NavItem(_("Team"), "web:team", ("staff.view",)),
    NavItem(_("Outbox"), "notifications:outbox", ("workspace.manage",)),
    NavItem(_("Settings"), "web:settings", ("workspace.manage",)),
]

_portal_sections: list[tuple[int, str]] = []


def portal_section(template_name: str, order: int = 50) -> None:
    """Add a section to each workspace block of /portal/ (context: ``client``, ``workspace``)."""
    if all(name != template_name for _, name in _portal_sections):
        _portal_sections.append((order, template_name))


def portal_sections() -> list[str]:
    return [name for _, name in sorted(_portal_sections)]


def dashboard_nav(request) -> list[dict]:
    membership = getattr(request, "membership", None)
    workspace = getattr(request, "workspace", None)
    if membership is None or workspace is None:
        return []
    items = []
    for item in NAV:
        if not any(can(membership, cap) for cap in item.capabilities):
            continue
        try:
            url = reverse(item.url_name, kwargs={"ws": workspace.slug})
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "current": request.path == url
                      or (url != reverse("web:dashboard", kwargs={"ws": workspace.slug})
                          and request.path.startswith(url))})
    return items
