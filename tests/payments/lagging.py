"""A gateway whose status API lags behind its notifications, and a driver that takes one payment through a
timeline of gateway-side facts while notifications are duplicated, reordered, lost and re-sent.

Used by the property test in test_webhooks.py. The model:

- **Lag.** A status read may answer any earlier state of the payment's timeline, never one that has not
  happened yet (a replicated gateway's read side catching up). How far behind each read is comes from the
  plan; once the gateway is *consistent* every read answers the truth.
- **Notifications.** Each gateway-side fact emits a signed notification (testpay: built here; sandbox: the
  sandbox's own ``SandboxWebhook`` rows, signed when sent). A delivery may be repeated, come late, reach jasa
  while jasa's queue task is lost (stored, processed only by reconciliation), or never arrive: a gateway
  re-sends what never got a 2xx, so at the end every undelivered notification arrives once.
- **Reconciliation** runs between deliveries (the clock moves past every method's expected time, never near
  a payment's expiry) and keeps running after the gateway became consistent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from django.db.models import Sum

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments import signals
from jasa.payments.gateways.base import GatewayPayment, Status
from jasa.payments.gateways.sandbox import SandboxGateway
from jasa.payments.models import PENDING_STATUSES, LedgerEntry, PaymentIntent, WebhookEvent, can_reach
from jasa.payments.services import (
    payment_refund,
    payment_start,
    payment_sync,
    payments_reconcile,
    webhook_receive,
)
from tests.payments.fakegw import FakeGateway

AMOUNT = 1_000_000
RECONCILE_EVERY = dt.timedelta(minutes=61)  # past every method's expected time (at most 1 h), far from expiry
CARD_OK, CARD_DECLINED = "4811111111111114", "4911111111111113"  # jasa.sandbox.methods.TEST_CARDS


class Lagging:
    """Mixin over a gateway adapter: ``get_status`` answers an earlier state while lags are queued."""

    states: ClassVar[dict[str, list[GatewayPayment]]] = {}  # reference -> every state it has been in
    lags: ClassVar[list[int]] = []  # how many states behind each next read answers
    consistent: ClassVar[bool] = True
    reads: ClassVar[list[int]] = []  # the lag each read had (the test checks that lag happened)

    @classmethod
    def reset(cls, lags: list[int]) -> None:
        """A new timeline; consistent only when no read lags."""
        cls.states, cls.lags, cls.consistent, cls.reads = {}, list(lags), not lags, []

    @classmethod
    @contextlib.contextmanager
    def consistently(cls) -> Iterator[None]:
        before, cls.consistent = cls.consistent, True
        try:
            yield
        finally:
            cls.consistent = before

    def happened(self, reference: str) -> None:
        """The gateway's state of ``reference`` changed: remember it as one state of the timeline."""
        self.states.setdefault(reference, []).append(super().get_status(reference))  # type: ignore[misc]

    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        lag = 0 if self.consistent or not self.lags else self.lags.pop(0)
        seen = self.states.get(reference) or []
        self.reads.append(min(lag, max(0, len(seen) - 1)))
        if lag and seen:
            return seen[max(0, len(seen) - 1 - lag)]
        return super().get_status(reference, gateway_reference=gateway_reference)  # type: ignore[misc]


class LaggingTestpay(Lagging, FakeGateway):
    pass


class LaggingSandbox(Lagging, SandboxGateway):
    pass


# A timeline: how the payment starts (the method; None is a hosted checkout) and what then happens at the
# gateway. Steps: a Status (testpay moves there), ("refund", amount) staff refund in jasa, ("dashboard",
# total) refunded in the gateway's own dashboard, "simulate" (sandbox: the VA is paid), ("card", number)
# (sandbox: the client types a test card on the hosted page).
TIMELINES: dict[str, dict[str, tuple[str | None, list[Any]]]] = {
    "testpay": {
        "paid": (None, [Status.PROCESSING, Status.SUCCEEDED]),
        "declined": (None, [Status.FAILED]),
        "expired": (None, [Status.PROCESSING, Status.EXPIRED]),
        "refunded_in_jasa": (None, [Status.SUCCEEDED, ("refund", 250_000), ("refund", 750_000)]),
        "refunded_at_gateway": (None, [Status.PROCESSING, Status.SUCCEEDED, ("refund", 250_000),
                                       ("dashboard", AMOUNT)]),
        "chargeback": (None, [Status.SUCCEEDED, ("refund", 250_000), Status.DISPUTED]),
        "chargeback_unrefunded": (None, [Status.PROCESSING, Status.SUCCEEDED, Status.DISPUTED]),
    },
    "sandbox": {
        "va_paid": ("va_bca", ["simulate"]),
        "card_declined": (None, [("card", CARD_DECLINED)]),
        "card_refunded": (None, [("card", CARD_OK), ("refund", 250_000), ("refund", 750_000)]),
    },
}


class Recorder:
    """What the payment core told domain code, per payment: every signal, every status transition."""

    def __init__(self) -> None:
        self.by_payment: dict[str, list[tuple]] = {}

    def _add(self, payment, *item) -> None:
        self.by_payment.setdefault(str(payment.pk), []).append(item)

    def _paid(self, sender, invoice, payment, **kw) -> None:
        self._add(payment, "invoice_paid", invoice.status)

    def _failed(self, sender, payment, **kw) -> None:
        self._add(payment, "payment_failed", payment.status)

    def _refunded(self, sender, payment, refund, **kw) -> None:
        self._add(payment, "payment_refunded", refund.refund_amount)

    def _changed(self, sender, payment, old, new, **kw) -> None:
        self._add(payment, "status", old, new)

    @contextlib.contextmanager
    def connected(self) -> Iterator[Recorder]:
        pairs = [(signals.invoice_paid, self._paid), (signals.payment_failed, self._failed),
                 (signals.payment_refunded, self._refunded), (signals.payment_status_changed, self._changed)]
        for signal, receiver in pairs:
            signal.connect(receiver, weak=False)
        try:
            yield self
        finally:
            for signal, receiver in pairs:
                signal.disconnect(receiver)


class Run:
    """One payment of one invoice through one timeline. ``capture`` is pytest-django's
    django_capture_on_commit_callbacks: on_commit work (signals, the queue) runs when a block ends."""

    def __init__(self, *, gateway: str, timeline: str, key: str, ws, invoice_factory, capture,
                 recorder: Recorder) -> None:
        self.gateway, self.key, self.capture, self.recorder = gateway, key, capture, recorder
        self.method, self.steps = TIMELINES[gateway][timeline]
        self.invoice = invoice_factory(ws, AMOUNT)
        self.adapter: Any = None
        self.payment: PaymentIntent | None = None
        self.sent: list[Callable[[], tuple[dict[str, str], bytes]]] = []  # notifications, in emission order
        self.delivered: set[int] = set()
        self._sandbox_seen: set[Any] = set()
        self.path: list[tuple[str, str]] = []  # (payment, invoice) status after every action

    # --- the gateway's side -------------------------------------------------------------------------
    def start(self) -> None:
        from jasa.payments.connect import gateway_for

        with self.capture(execute=True):
            self.payment = payment_start(invoice=self.invoice, idempotency_key=self.key, gateway=self.gateway,
                                         method=self.method, return_url="https://jasa.example/done")
        self.adapter = gateway_for(self.invoice.workspace, self.gateway)
        self._happened(Status.REQUIRES_ACTION)
        self.observe()

    def step(self, index: int) -> None:
        step = self.steps[index]
        ref = self.payment.reference
        if isinstance(step, Status):
            FakeGateway.set_status(ref, step)
            self._happened(step)
        elif step[0] == "refund":
            self._refund_in_jasa(step[1])
        elif step[0] == "dashboard":
            FakeGateway.set_status(ref, Status.REFUNDED, refunded=Money(step[1]))
            self._happened(Status.REFUNDED)
        elif step == "simulate":
            from jasa.sandbox.services import payment_simulate

            payment_simulate(self._sandbox_payment().pk)
            self._happened()
        elif step[0] == "card":
            from jasa.sandbox.services import payment_pay_card

            payment_pay_card(self._sandbox_payment().pk, number=step[1], exp_month=12, exp_year=2030, cvc="123")
            self._happened()
        self.observe()

    def _refund_in_jasa(self, amount: int) -> None:
        # Staff refund from the payment's page, which they open once jasa shows it paid: its "Sync" reads
        # the gateway as it is (a person looks at the truth, not at a lagging replica).
        with Lagging.consistently(), self.capture(execute=True):
            payment_sync(self.payment.pk)
            payment_refund(payment=PaymentIntent.objects.get(pk=self.payment.pk), amount=Money(amount),
                           reason="Klien membatalkan sebagian")
        if self.gateway == "testpay":
            refunded = FakeGateway.world[self.payment.reference]["refunded"]
            status = Status.REFUNDED if refunded.amount >= AMOUNT else Status.PARTIALLY_REFUNDED
            FakeGateway.set_status(self.payment.reference, status)
            self._happened(status)
        else:
            self._happened()  # the sandbox moved its payment and queued its notification itself

    def _happened(self, claim: Status | None = None) -> None:
        """A fact at the gateway: the lagging status API remembers the state, and a notification goes out."""
        self.adapter.happened(self.payment.reference)
        if self.gateway == "testpay":
            signed = FakeGateway.webhook(f"{self.key}-evt-{len(self.sent)}", self.payment.reference,
                                         status=str(claim))
            self.sent.append(lambda: signed)
            return
        from jasa.sandbox import webhooks
        from jasa.sandbox.models import SandboxWebhook

        rows = SandboxWebhook.objects.filter(payment__reference=self.payment.reference).exclude(
            pk__in=self._sandbox_seen).order_by("created_at", "event_type")
        for row in rows:
            self._sandbox_seen.add(row.pk)
            self.sent.append(lambda row=row: webhooks.build(row))  # signed when sent, as the sandbox does

    def _sandbox_payment(self):
        from jasa.sandbox.models import SandboxPayment

        return SandboxPayment.objects.get(reference=self.payment.reference)

    # --- what reaches jasa ----------------------------------------------------------------------------
    def deliver(self, index: int, *, task_runs: bool = True) -> None:
        """POST one notification; without ``task_runs`` it is stored but its queue task is lost."""
        headers, body = self.sent[index]()
        with self.capture(execute=task_runs):
            webhook_receive(self.gateway, headers, body)
        self.delivered.add(index)
        self.observe()

    def reconcile(self) -> None:
        clock.advance(RECONCILE_EVERY)
        with self.capture(execute=True):
            payments_reconcile()
        self.observe()

    def act(self, action: tuple[str, int]) -> None:
        kind, pick = action
        if kind == "reconcile":
            self.reconcile()
        elif self.sent:
            self.deliver(pick % len(self.sent), task_runs=kind == "deliver")

    # --- the two ways of playing the timeline ---------------------------------------------------------
    def play_in_order(self) -> None:
        """The clean run: each notification once, as it happens, and every read is the truth."""
        for index in range(-1, len(self.steps)):
            if index < 0:
                self.start()
            else:
                self.step(index)
            for pending in range(len(self.delivered), len(self.sent)):
                self.deliver(pending)

    def play(self, actions: list[list[tuple[str, int]]], rng: random.Random) -> None:
        """The messy run: ``actions[0]`` after the start, ``actions[i]`` after step i; then the gateway re-sends
        what was never delivered, becomes consistent, and reconciliation keeps running."""
        for index, after in enumerate(actions):
            if index:
                self.step(index - 1)
            else:
                self.start()
            for action in after:
                self.act(action)
        self.resend_undelivered(rng)
        Lagging.consistent = True
        self.reconcile()
        self.reconcile()

    def resend_undelivered(self, rng: random.Random) -> None:
        """The gateway re-sends every notification jasa never answered 2xx to, in its own order."""
        missing = [i for i in range(len(self.sent)) if i not in self.delivered]
        rng.shuffle(missing)
        for index in missing:
            self.deliver(index)

    # --- what jasa did --------------------------------------------------------------------------------
    def observe(self) -> None:
        """Record jasa's state after an action and check that it only moved forward."""
        payment = PaymentIntent.objects.select_related("invoice").get(pk=self.payment.pk)
        now = (payment.status, payment.invoice.status)
        if self.path:
            before = self.path[-1]
            assert now[0] == before[0] or can_reach(before[0], now[0]), f"payment went back: {before} -> {now}"
            assert now[1] == before[1] or (before[1], now[1]) == ("open", "paid"), f"invoice went back: {now}"
        self.path.append(now)

    def outcome(self) -> dict[str, Any]:
        payment = PaymentIntent.objects.select_related("invoice").get(pk=self.payment.pk)
        told = self.recorder.by_payment.get(str(payment.pk), [])
        transitions = [(old, new) for kind, *rest in told if kind == "status" for old, new in [rest]]
        return {
            "payment": payment.status,
            "invoice": payment.invoice.status,
            "ledger": sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", "amount")),
            "ledger_totals": dict(LedgerEntry.objects.filter(payment=payment).values_list("kind")
                                  .annotate(s=Sum("amount")).order_by()),
            "receipts": sorted(payment.invoice.receipts.values_list("receipt_amount", flat=True)),
            "refunds": sorted(payment.refunds.values_list("refund_amount", "status", "channel")),
            "signals": Counter(item for item in told if item[0] != "status"),
            # the statuses entered that domain code acts on (pending ones may be skipped when news is lost)
            "settled_path": [new for _old, new in transitions if new not in PENDING_STATUSES],
            "transitions": transitions,
            "events_left": list(WebhookEvent.objects.filter(payment=payment).exclude(
                state=WebhookEvent.PROCESSED).values_list("event_id", "state", "error")),
        }
