"""The REST API at /api/v1/, OpenAPI at /api/v1/openapi.json. One router module per domain."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from jasa.api import idempotency
from jasa.core.errors import JasaError

log = logging.getLogger(__name__)


class JasaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # The Idempotency-Key header is handled by middleware, so no operation declares it: say it here, once.
        idempotency.document(schema)
        return schema


api = JasaAPI(
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
        # our validators raise ValueError, which pydantic words as "Value error, <our message>"
        message = err.get("msg", "invalid").removeprefix("Value error, ")
        errors.append({"field": ".".join(loc), "message": message})
    return api.create_response(request, {"detail": "Invalid input.", "code": "invalid", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(request, {"detail": "Authentication required.", "code": "unauthenticated"}, status=401)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    # e.g. a body that is not JSON (400): the same shape as every other error
    return api.create_response(request, {"detail": str(exc), "code": "bad_request"}, status=exc.status_code)


@api.exception_handler(DjangoPermissionDenied)
def _django_denied(request: HttpRequest, exc: DjangoPermissionDenied):
    # what Django itself would answer 403; caught here, else the catch-all below would make it a 500
    return api.create_response(request, {"detail": str(exc) or "Permission denied.", "code": "forbidden"}, status=403)


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation):
    # what Django itself would answer 400 (e.g. too many fields), logged to its security logger as Django does
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
    return api.create_response(request, {"detail": "Bad request.", "code": "bad_request"}, status=400)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception):
    """A bug, not the caller's fault: logged with its traceback and signalled like any unhandled exception
    (error reporting hooks, and the test client re-raises it), but the caller still gets JSON, not a page."""
    log.exception("unhandled error in %s %s", request.method, request.path)
    got_request_exception.send(sender=None, request=request)
    body = {"detail": _("Something went wrong on our side and it has been logged. Try again later; if it "
                        "keeps happening, tell us what you sent."), "code": "server_error"}
    return api.create_response(request, body, status=500)


def _register_routers() -> None:
    # Each domain owns its module under jasa/api/; adding a domain is one line here.
    from jasa.api import accounts, bookings, payments

    api.add_router("/", accounts.router)
    api.add_router("/", payments.router)
    api.add_router("/", bookings.router)


_register_routers()
