"""The REST API at /api/v1/, OpenAPI at /api/v1/openapi.json. One router module per domain."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from jasa.core.errors import JasaError

api = NinjaAPI(
    title="jasa API",
    version="1",
    urls_namespace="api",
    description=(
        "Offers, bookings, invoices, payments, refunds. Money is {\"amount\": <integer minor units>, "
        "\"currency\": \"IDR\"}. Every POST accepts an Idempotency-Key header."
    ),
)


@api.exception_handler(JasaError)
def _jasa_error(request: HttpRequest, exc: JasaError):
    body: dict = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["errors"] = [{"field": exc.field, "message": exc.message}]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError):
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        errors.append({"field": ".".join(loc), "message": err.get("msg", "invalid")})
    return api.create_response(request, {"detail": "Invalid input.", "code": "invalid", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(request, {"detail": "Authentication required.", "code": "unauthenticated"}, status=401)


def _register_routers() -> None:
    # Each domain owns its module under jasa/api/; adding a domain is one line here.
    from jasa.api import accounts, bookings, payments

    api.add_router("/", accounts.router)
    api.add_router("/", payments.router)
    api.add_router("/", bookings.router)


_register_routers()
