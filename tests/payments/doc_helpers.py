"""Helpers for tests of the invoice and receipt documents: a business with legal details and PPN, PDF text."""

from __future__ import annotations

import io

LEGAL_NAME = "PT Studio Acme Indonesia"
NPWP = "01.234.567.8-901.000"
ADDRESS = "Jl. Sudirman 1, Jakarta"


def with_legal_details(workspace, *, ppn: bool = True):
    """The business's legal details on its documents, and PPN 12 % on a base of 11/12 (as from 2025)."""
    from jasa.payments.services_config import tax_settings_save

    workspace.legal_name, workspace.npwp, workspace.address = LEGAL_NAME, NPWP, ADDRESS
    workspace.email = "halo@acme.test"
    workspace.save()
    if ppn:
        tax_settings_save(workspace=workspace, enabled=True, rate_percent="12", base_numerator=11, base_denominator=12)
    return workspace


def pdf_text(data: bytes) -> str:
    """The text a reader sees in a PDF, one line per text run (pypdf's extraction)."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF"), data[:20]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
