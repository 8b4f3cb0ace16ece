"""What each staff role may do. One table, used by web views and API handlers alike."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jasa.accounts.models import Role

# Capabilities in the business's words. Views/API ask `can(membership, "payments.refund")`.
CAPABILITIES: dict[str, set[str]] = {
    Role.OWNER: {
        "workspace.view", "workspace.manage", "workspace.delete", "staff.view", "staff.invite", "staff.manage",
        "offers.view", "offers.manage", "bookings.view_all", "bookings.manage", "availability.manage_own",
        "availability.manage_all", "calendars.manage_own", "clients.view", "payments.view", "payments.refund", "invoices.manage",
        "gateways.manage", "reports.view", "projects.view_all", "projects.manage", "subscriptions.view",
        "subscriptions.manage", "audit.view",
    },
    Role.ADMIN: {
        "workspace.view", "workspace.manage", "staff.view", "staff.invite", "staff.manage", "offers.view",
        "offers.manage", "bookings.view_all", "bookings.manage", "availability.manage_own",
        "availability.manage_all", "calendars.manage_own", "clients.view", "payments.view", "payments.refund", "invoices.manage",
        "gateways.manage", "reports.view", "projects.view_all", "projects.manage", "subscriptions.view",
        "subscriptions.manage", "audit.view",
    },
    Role.STAFF: {
        "workspace.view", "staff.view", "offers.view", "bookings.view_own", "bookings.manage_own",
        "availability.manage_own", "calendars.manage_own", "clients.view", "projects.view_own",
        "projects.manage_own",
    },
    Role.FINANCE: {
        "workspace.view", "staff.view", "offers.view", "bookings.view_all", "clients.view", "payments.view",
        "payments.refund", "invoices.manage", "reports.view", "subscriptions.view", "audit.view", "projects.view_all",
    },
}


def can(membership, capability: str) -> bool:
    if membership is None or not membership.is_active:
        return False
    return capability in CAPABILITIES.get(membership.role, set())


# Refusals, worded once for web views and API handlers (translated in this app's catalog).
NO_SUCH_WORKSPACE = _("No such workspace.")
KEY_MAY_NOT = _("This API key may not do this (%(capability)s).")
ROLE_MAY_NOT = _("Your role (%(role)s) may not do this (%(capability)s).")
