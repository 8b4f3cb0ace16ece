"""Check every invoice's stored totals against the ledger; exit 1 and list problems if any disagree.

The same check runs daily on its own (services_ledger, tasks.ledger_check_task); this is the one to run by hand,
e.g. after correcting what it reported."""

from django.core.management.base import BaseCommand, CommandError

from jasa.payments.models import Invoice
from jasa.payments.services_ledger import invoices_problems


class Command(BaseCommand):
    help = "Verify invoices, payments, refunds and receipts against the append-only ledger."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="only this workspace (slug)")

    def handle(self, *args, workspace=None, **options):
        invoices = Invoice.objects.exclude(status="draft").order_by("created_at")
        if workspace:
            invoices = invoices.filter(workspace__slug=workspace)
        count, problems = invoices_problems(invoices.iterator())
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check FAILED: {len(problems)} problem(s) in {count} invoice(s)")
        self.stdout.write(f"ledger check ok: {count} invoice(s)")
