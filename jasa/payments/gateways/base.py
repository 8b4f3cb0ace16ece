"""The one protocol every payment gateway adapter implements (sandbox, midtrans, xendit, stripe).

Adapters translate; they hold no business rules. The payment core (jasa.payments.services)
calls them and applies what they report under a row lock. ``get_status`` is the source of
truth: webhooks only tell the core *when* to ask.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, TypeGuard

from django.utils.translation import gettext_noop

from jasa.core.money import Money


class Method(enum.StrEnum):
    """Payment methods in jasa's words; each adapter maps them to the gateway's codes."""

    CARD = "card"
    VA_BCA = "va_bca"
    VA_BNI = "va_bni"
    VA_BRI = "va_bri"
    VA_MANDIRI = "va_mandiri"  # Mandiri bill payment (echannel)
    VA_PERMATA = "va_permata"
    QRIS = "qris"
    GOPAY = "gopay"
    OVO = "ovo"
    DANA = "dana"
    SHOPEEPAY = "shopeepay"
    INDOMARET = "indomaret"
    ALFAMART = "alfamart"

    @property
    def family(self) -> str:
        if self is Method.CARD:
            return "card"
        if self.value.startswith("va_"):
            return "va"
        if self is Method.QRIS:
            return "qris"
        if self in (Method.INDOMARET, Method.ALFAMART):
            return "store"
        return "ewallet"


class Status(enum.StrEnum):
    """jasa's payment statuses. Order matters: transitions only move forward (see payments.models)."""

    CREATED = "created"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


@dataclasses.dataclass(frozen=True)
class Capabilities:
    refund: bool = True
    partial_refund: bool = True
    save_for_recurring: bool = False
    off_session: bool = False


@dataclasses.dataclass(frozen=True)
class PaymentRequest:
    """What the core asks an adapter to collect. ``reference`` is jasa's payment id and the
    gateway-side idempotency key (order_id / external_id / Idempotency-Key), so a retried
    create never charges twice."""

    reference: str
    amount: Money
    method: Method | None  # None: let the client choose on the hosted page
    description: str
    customer_name: str
    customer_email: str
    customer_phone: str = ""
    return_url: str = ""
    notification_url: str = ""
    expires_in_seconds: int | None = None
    save_method: bool = False
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The methods the business enabled for this gateway (empty: all it offers). Only a hosted page with
    # ``method=None`` needs them, so that it lists no method the business switched off; see hosted_codes.
    allowed_methods: tuple[Method, ...] = ()


@dataclasses.dataclass(frozen=True)
class NextAction:
    """What the client must do: open a page, pay a VA number, scan a QR, approve in an app, pay at a store."""

    kind: str  # "redirect" | "va_number" | "qr" | "deeplink" | "store_code" | "none"
    url: str = ""
    va_number: str = ""
    bank: str = ""
    qr_string: str = ""
    store_code: str = ""
    expires_at: str = ""  # ISO 8601
    biller_code: str = ""  # Mandiri bill payment: the company code the client enters before the bill key


@dataclasses.dataclass(frozen=True)
class GatewayPayment:
    """A gateway's answer about one payment, already mapped to jasa's words."""

    gateway_reference: str  # the gateway's own id (transaction_id, invoice id, pi_...)
    status: Status
    amount: Money
    method: Method | None = None
    next_action: NextAction | None = None
    captured: Money | None = None
    refunded: Money | None = None
    fee: Money | None = None
    failure_code: str = ""
    failure_message: str = ""
    saved_method: SavedMethodToken | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # Refunds of this payment the gateway reports as failed or canceled, by jasa's refund key -> the gateway's
    # reason: a refund it first answered "pending" can end that way (Xendit reports most refunds so).
    failed_refunds: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Facts beside the status (which stays the one forward-only line): the gateway holds the money but has
    # not captured it (status PROCESSING; ledger ``authorized``), and the captured money has settled into
    # the business's gateway balance (a paid status; ledger ``settled``). Adapters set them from their
    # status tables; the core records each once.
    authorized: bool = False
    settled: bool = False


@dataclasses.dataclass(frozen=True)
class SavedMethodToken:
    token: str  # gateway token (saved_token_id / payment_method id / pm_...); never a card number
    method: Method
    brand: str = ""
    masked: str = ""  # e.g. "481111******1114" as the gateway returns it
    expiry_month: int | None = None
    expiry_year: int | None = None


@dataclasses.dataclass(frozen=True)
class RefundResult:
    gateway_reference: str
    status: str  # "succeeded" | "pending" | "failed"
    amount: Money
    failure_message: str = ""
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    """A verified notification: which payment to re-read. Its claims are not trusted for state."""

    event_id: str  # unique per gateway, for storing once
    reference: str  # jasa's payment reference (order_id / external_id / metadata)
    kind: str  # gateway's event type, for display
    claimed_status: str = ""  # in the gateway's words; ReadsClaims translates it
    payload: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class ReadsClaims(Protocol):
    """Optional capability: ``status_of_claim`` says which jasa status a notification's ``claimed_status``
    announces (None: it cannot tell). The claim never changes a payment; when the re-read shows less, the
    core keeps the event ``received`` and reconciliation asks again (the status API lags behind the
    notification). Without it an event is done once re-read."""

    @staticmethod
    def status_of_claim(claimed_status: str) -> Status | None:
        """The jasa status ``claimed_status`` stands for, or None."""


class GatewayError(Exception):
    """The gateway could not be reached or answered 5xx/timeout: safe to retry with the same reference."""

    retryable = True


class GatewayDeclined(Exception):
    """The gateway refused (validation, unsupported refund, declined card): do not retry as is."""

    retryable = False

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class PaymentNotFound(GatewayDeclined):
    """``get_status``/``cancel``: the gateway has no payment with this reference (a create that never
    reached it). The core may then safely create it again with the same reference."""


class WebhookRejected(Exception):
    """Signature missing/wrong, stale timestamp or malformed body: answer 4xx, change nothing."""


class Gateway(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]
    methods: ClassVar[dict[Method, Capabilities]]

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None: ...

    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        """A hosted payment page; ``next_action.kind == "redirect"``."""

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        """A direct payment for ``request.method``: VA number, QR string, deeplink or store code."""

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        """Charge a saved method off-session (renewals)."""

    # ``gateway_reference`` (optional): the gateway id the core stored from the first answer. Stripe needs
    # it to read a Checkout Session (its search by reference lags); adapters that do not need it ignore it.
    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        """The source of truth for a payment, by jasa's reference."""

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment: ...

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify and parse; raise WebhookRejected for anything not provably from the gateway."""

    def test_connection(self) -> str:
        """A harmless authenticated call; returns a short description or raises GatewayError."""


class ForgetsSavedMethods(Protocol):
    """Optional capability: an adapter that can delete a saved method's token at the gateway has
    ``forget_saved_method``; the core asks for it by ``getattr`` (jasa.payments.services_methods) when a
    client removes a method. Without it the token stays at the gateway, unused: jasa never charges an
    inactive method. Midtrans, for one, documents no call that deletes a card's ``saved_token_id``."""

    def forget_saved_method(self, token: str) -> None:
        """Delete or expire ``token`` so no later charge with it succeeds. A token the gateway does not
        know (already gone) counts as forgotten; GatewayError / GatewayDeclined when it could not."""


def forgets_saved_methods(adapter: object) -> TypeGuard[ForgetsSavedMethods]:
    """True when the adapter (class or instance) implements ForgetsSavedMethods."""
    return callable(getattr(adapter, "forget_saved_method", None))


class SetupStatus(enum.StrEnum):
    """Where saving a method without a payment stands. Pending moves once, to one of the others."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclasses.dataclass(frozen=True)
class SetupRequest:
    """What the core asks a gateway to save: a card the client enters on the gateway's hosted page, charged
    nothing now. ``reference`` is jasa's setup id, the gateway-side idempotency key as for payments."""

    reference: str
    currency: str  # the business's currency (Stripe shows it on its page; nothing is charged)
    description: str
    customer_name: str
    customer_email: str
    return_url: str
    notification_url: str = ""
    expires_in_seconds: int | None = None
    # The client's active tokens at this gateway: an adapter may attach the new method to the same
    # gateway customer (Stripe: the "cus_..." part) instead of creating another one.
    saved_tokens: tuple[str, ...] = ()
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class GatewaySetup:
    """A gateway's answer about one setup. ``saved_method`` is set once it succeeded."""

    gateway_reference: str  # the gateway's own id (cs_... for Stripe, sbx_... for the sandbox)
    status: SetupStatus
    redirect_url: str = ""  # the hosted page, while pending
    saved_method: SavedMethodToken | None = None
    failure_code: str = ""
    failure_message: str = ""
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class SavesWithoutPayment(Protocol):
    """Optional capability: the gateway can save a card for later off-session charges without charging it
    now (a subscription's trial, changing the card), on its own hosted page. The core asks for it with
    :func:`saves_without_payment` (jasa.payments.services_setup); adapters without it leave saving a card
    to a payment (``save_method``). See docs/gateways.md for why Midtrans and Xendit have none."""

    def start_setup(self, request: SetupRequest) -> GatewaySetup:
        """Open the hosted page (``redirect_url``). Same reference -> the same setup, never a second one."""

    def get_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        """The source of truth for a setup; PaymentNotFound when the gateway has none with this reference."""

    def cancel_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        """Close a pending setup's page so it cannot complete any more; the answer is its status after."""


def saves_without_payment(adapter: object) -> TypeGuard[SavesWithoutPayment]:
    """True when the adapter (class or instance) implements SavesWithoutPayment."""
    return all(callable(getattr(adapter, name, None)) for name in ("start_setup", "get_setup", "cancel_setup"))


def hosted_codes(request: PaymentRequest, codes: Mapping[Method, str], gateway: str) -> list[str] | None:
    """The gateway's codes for the methods its hosted page may list: the one ``request.method``, else the
    allowed methods it has a code for (in order, once each), else None (no limit: every method).

    Raises GatewayDeclined when the request names no method this gateway has a code for, rather than
    opening a page that offers methods the business did not enable."""
    wanted = (request.method,) if request.method is not None else request.allowed_methods
    if not wanted:
        return None
    found = list(dict.fromkeys(codes[m] for m in wanted if m in codes))
    if not found:
        # Stored as the payment's failure_message and translated when shown, hence no names in it.
        raise GatewayDeclined(gettext_noop("The payment gateway's page offers none of the payment methods this "
                                           "business accepts."), code="unsupported_method")
    return found


DEFAULT_TIMEOUT_SECONDS = 15


def request_timeout(credentials: Mapping[str, str]) -> int:
    """Whole seconds an adapter waits for its gateway: credential "timeout", else 15."""
    return int(credentials.get("timeout") or DEFAULT_TIMEOUT_SECONDS)


_registry: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: adapters register themselves by ``name``."""
    _registry[cls.name] = cls  # type: ignore[attr-defined]
    return cls


def gateway_class(name: str) -> Any:
    _load_builtin()
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"unknown gateway {name!r}; known: {', '.join(sorted(_registry))}")


def gateway_names() -> list[str]:
    _load_builtin()
    return sorted(_registry)


def _load_builtin() -> None:
    import importlib

    for module in ("sandbox", "midtrans", "xendit", "stripe"):
        try:
            importlib.import_module(f"jasa.payments.gateways.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"jasa.payments.gateways.{module}":
                raise
