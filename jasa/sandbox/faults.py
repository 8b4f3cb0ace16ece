"""Switchable faults: per merchant row, else the global row, else ``settings.SANDBOX_FAULTS``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db.models import F

from jasa.sandbox.models import SandboxFaults, SandboxMerchant


class ApiError(Exception):
    """What the sandbox "server" answers instead of a 2xx; the adapter maps it."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ApiTimeout(ApiError):
    def __init__(self) -> None:
        super().__init__(504, "timeout", "the sandbox gateway did not answer in time")


def faults_for(merchant: SandboxMerchant | None) -> SandboxFaults:
    """The faults in force for ``merchant`` (an unsaved row of defaults when none is configured)."""
    if merchant is not None:
        row = SandboxFaults.objects.filter(merchant=merchant).first()
        if row is not None:
            return row
    row = SandboxFaults.objects.filter(merchant__isnull=True).first()
    if row is not None:
        return row
    return SandboxFaults(**getattr(settings, "SANDBOX_FAULTS", {}))


def _take_api_fault(merchant: SandboxMerchant | None) -> str:
    faults = faults_for(merchant)
    fault = faults.api_fault
    if not fault or faults.pk is None:
        return fault
    if faults.api_fault_calls:
        # a counted fault: use one, and switch it off when the count runs out
        SandboxFaults.objects.filter(pk=faults.pk).update(api_fault_calls=F("api_fault_calls") - 1)
        if faults.api_fault_calls == 1:
            SandboxFaults.objects.filter(pk=faults.pk).update(api_fault="")
    return fault


@contextlib.contextmanager
def api_call(merchant: SandboxMerchant | None) -> Iterator[None]:
    """Wrap one API call: a 5xx fault refuses before any work; a timeout answers after the work is done
    (the case where the caller must retry with the same reference and must not charge twice)."""
    fault = _take_api_fault(merchant)
    if fault == SandboxFaults.API_5XX:
        raise ApiError(503, "unavailable", "the sandbox gateway is unavailable (simulated 503)")
    yield
    if fault == SandboxFaults.API_TIMEOUT:
        raise ApiTimeout()
