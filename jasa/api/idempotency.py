"""Idempotency-Key for every POST: the same key and body get the same answer; a different body gets 422.

Implemented as middleware over /api/ so every POST handler gets it without remembering to.
The first request with a key inserts a row (unique constraint); a concurrent second one
waits for the first to finish by retrying the read, so two racing requests never both act.
``document`` writes the header into the OpenAPI schema of every POST operation, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from jasa.api.models import IdempotentRequest
from jasa.core import clock

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 200  # IdempotentRequest.key

OPENAPI_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "Any unique string (a UUID is good). Repeating the request with the same key and the same body "
        "answers the first answer again (header Idempotent-Replayed: true) and does nothing more; the same "
        "key with another body is 422 (code idempotency_mismatch); while the first is still running, 409. "
        "Keys are per caller and per path. A 5xx answer is not kept: retry with the same key. A first request "
        "left without an answer for 2 minutes (its server process died) is taken over by the next retry."
    ),
}
REPLAYED_HEADER = {"Idempotent-Replayed": {
    "description": "true when this is the stored answer to an earlier request with the same Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}}


def document(schema: dict) -> None:
    """Declare the header on every POST operation of an OpenAPI schema, and the replay header on its 2xx."""
    for operations in schema.get("paths", {}).values():
        operation = operations.get("post")
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
            parameters.append(dict(OPENAPI_PARAMETER))
        for status, response in operation.get("responses", {}).items():
            if str(status).startswith("2"):
                response.setdefault("headers", {}).update(REPLAYED_HEADER)


def _invalid_key(key: str) -> JsonResponse | None:
    if len(key) > MAX_KEY_LENGTH:
        message = _("Idempotency-Key is longer than %(max)d characters.") % {"max": MAX_KEY_LENGTH}
    elif not key.isprintable():
        # a control character (NUL above all) cannot be stored or compared in PostgreSQL
        message = _("Idempotency-Key may only hold printable characters.")
    else:
        return None
    return JsonResponse({"detail": message, "code": "invalid",
                         "errors": [{"field": "Idempotency-Key", "message": message}]}, status=422)


def _scope(request) -> str:
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:32]
    return "anonymous"


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body or b""), status=row.status_code, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


# A first request still unanswered after this long died with its process (a crash, a deploy; jasa serve's
# gunicorn kills a worker after --timeout 60): a retry with the same key and body takes its place instead of
# waiting for an answer that never comes. Keep it above any request timeout of the server in front.
ABANDONED_AFTER = dt.timedelta(minutes=2)


def _take_over(lookup: dict, body_hash: str) -> IdempotentRequest | None:
    """The row of an abandoned first request with this body, claimed for this retry (one retry wins: the
    update re-checks the row it locked); None while the first may still answer. Acting again is safe: a POST
    handler either commits all or nothing, or passes the key on (payments and refunds, to the gateway too)."""
    now = clock.now()
    claimed = IdempotentRequest.objects.filter(
        **lookup, body_hash=body_hash, status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER,
    ).update(created_at=now)
    return IdempotentRequest.objects.filter(**lookup).first() if claimed else None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        invalid = _invalid_key(key)
        if invalid is not None:
            return invalid
        body_hash = hashlib.sha256(request.body).hexdigest()
        lookup = {"scope": _scope(request), "key": key, "method": request.method, "path": request.path}
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(body_hash=body_hash, **lookup)
        except IntegrityError:
            taken = _take_over(lookup, body_hash)
            if taken is None:
                return self._existing(lookup, body_hash)
            row = taken
        response = self.get_response(request)
        if 500 <= response.status_code:
            # A server failure is not an answer: let the client retry with the same key.
            IdempotentRequest.objects.filter(pk=row.pk).delete()
            return response
        IdempotentRequest.objects.filter(pk=row.pk).update(
            status_code=response.status_code,
            response_body=response.content,
            content_type=response.get("Content-Type", "application/json"),
        )
        return response

    def _existing(self, lookup, body_hash: str) -> HttpResponse:
        deadline = time.monotonic() + 10
        while True:
            row = IdempotentRequest.objects.filter(**lookup).first()
            if row is None:
                return JsonResponse({"detail": "The first request with this key failed; retry."}, status=409)
            if row.body_hash != body_hash:
                return JsonResponse(
                    {"detail": "This Idempotency-Key was used with a different body.", "code": "idempotency_mismatch"},
                    status=422,
                )
            if row.status_code is not None:
                return _replay(row)
            if time.monotonic() > deadline:
                return JsonResponse({"detail": "A request with this key is still in progress."}, status=409)
            time.sleep(0.05)
