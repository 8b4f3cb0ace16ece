"""The scheduled ledger check: every workspace's invoices against the append-only ledger, once a day.

``ledger_check_task`` (tasks.py) asks every hour and :func:`ledger_check_if_due` runs the check when the last
one started ``CHECK_EVERY`` ago or more, so a periodic worker that was down at the usual hour catches up
within the hour instead of skipping a day (Huey does not run a missed crontab). Each run is a ``LedgerCheck``
row; every problem goes to the log at ERROR, to an audit entry on the workspace concerned, and to the
instance admins (``ADMINS``, from ``JASA_ADMINS``) by email when any are configured. ``/healthz`` shows the
last run (selectors.ledger_health).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import mail_admins
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jasa.core import audit, clock
from jasa.payments import ledger_guard
from jasa.payments.models import Invoice, InvoiceStatus, LedgerCheck
from jasa.payments.services import ledger_problems

log = logging.getLogger(__name__)

CHECK_EVERY = dt.timedelta(hours=23)  # daily; an hour short so that the hourly trigger keeps its hour
PROBLEMS_KEPT = 200  # per run, in LedgerCheck.problems and the email; the log and the audit have them all
ACTOR = audit.Actor(label="system:ledger-check")


def invoices_problems(invoices: Iterable[Invoice]) -> tuple[int, list[str]]:
    """How many invoices were checked and what :func:`ledger_problems` found in them."""
    count, problems = 0, []
    for invoice in invoices:
        count += 1
        problems.extend(ledger_problems(invoice))
    return count, problems


def workspace_problems(workspace) -> tuple[int, list[str]]:
    """The ledger check of one workspace: its issued invoices (drafts carry no money)."""
    invoices = Invoice.objects.filter(workspace=workspace).exclude(status=InvoiceStatus.DRAFT).order_by("created_at")
    return invoices_problems(invoices.iterator())


def ledger_check_if_due() -> LedgerCheck | None:
    """Run :func:`ledger_check_run` unless a check started less than ``CHECK_EVERY`` ago."""
    last = LedgerCheck.objects.order_by("-started_at").first()
    if last is not None and clock.now() - last.started_at < CHECK_EVERY:
        return None
    return ledger_check_run()


def ledger_check_run() -> LedgerCheck:
    """Check every workspace now, report what is wrong, and record the run."""
    from jasa.accounts.models import Workspace

    run = LedgerCheck.objects.create(started_at=clock.now())
    found: list[dict[str, str]] = []
    for trigger in ledger_guard.missing(connection):
        problem = (f"the ledger's database guard lacks its trigger {trigger}: a migration rebuilt the ledger table "
                   "without re-installing it (see jasa/payments/ledger_guard.py)")
        log.error("ledger check: %s", problem)
        found.append({"workspace": "", "problem": problem})
    for workspace in Workspace.objects.order_by("created_at").iterator():
        run.workspaces += 1
        try:
            count, problems = workspace_problems(workspace)
        except Exception as exc:  # noqa: BLE001 - one workspace's failure must not hide the others' books
            log.exception("ledger check: %s could not be checked", workspace.slug)
            count, problems = 0, [f"the check could not finish: {exc.__class__.__name__}: {exc}"]
        run.invoices += count
        for problem in problems:
            log.error("ledger check: %s: %s", workspace.slug, problem)
            found.append({"workspace": workspace.slug, "problem": problem})
        if problems:
            audit.record(workspace, "ledger.problems", actor=ACTOR,
                         after={"count": len(problems), "problems": problems[:PROBLEMS_KEPT], "check": run.pk})
    run.problem_count = len(found)
    run.problems = found[:PROBLEMS_KEPT]
    run.finished_at = clock.now()
    run.save(update_fields=["workspaces", "invoices", "problem_count", "problems", "finished_at"])
    if found:
        _email_admins(run)
    return run


def _email_admins(run: LedgerCheck) -> None:
    """Tell the instance's admins (settings.ADMINS), in the instance's language; nothing when none are set."""
    if not settings.ADMINS:
        return
    with translation.override(settings.LANGUAGE_CODE):
        businesses = len({p["workspace"] for p in run.problems if p["workspace"]})
        subject = ngettext("Ledger check: %(count)d problem", "Ledger check: %(count)d problems",
                           run.problem_count) % {"count": run.problem_count}
        lines = [
            _("The daily ledger check found stored invoices, payments, refunds or receipts that disagree with "
              "the ledger (%(businesses)d business(es), %(invoices)d invoice(s) checked).")
            % {"businesses": businesses, "invoices": run.invoices},
            "",
            *[f"- {p['workspace'] or '(instance)'}: {p['problem']}" for p in run.problems],
        ]
        if run.problem_count > len(run.problems):
            lines.append(_("… and %(more)d more in the log.") % {"more": run.problem_count - len(run.problems)})
        lines += [
            "",
            _("Money state is wrong here and a person must look: open the payment in the business's dashboard, "
              "correct the cause, then check again with: jasa manage payments_verify_ledger --workspace <slug>"),
        ]
    try:
        mail_admins(subject, "\n".join(lines), fail_silently=False)
    except Exception:  # noqa: BLE001 - the run is recorded and logged; /healthz still shows the problems
        log.exception("ledger check: could not email the admins")
