"""The payment state machine as a table: every (from, to) pair is allowed or refused exactly as listed."""

from __future__ import annotations

import pytest

from jasa.core.errors import InvalidTransition
from jasa.payments.gateways.base import Status
from jasa.payments.models import PaymentIntent, can_transition

S = Status
ALLOWED = {
    (S.CREATED, S.REQUIRES_ACTION), (S.CREATED, S.PROCESSING), (S.CREATED, S.SUCCEEDED), (S.CREATED, S.FAILED),
    (S.CREATED, S.CANCELED), (S.CREATED, S.EXPIRED),
    (S.REQUIRES_ACTION, S.PROCESSING), (S.REQUIRES_ACTION, S.SUCCEEDED), (S.REQUIRES_ACTION, S.FAILED),
    (S.REQUIRES_ACTION, S.CANCELED), (S.REQUIRES_ACTION, S.EXPIRED),
    (S.PROCESSING, S.SUCCEEDED), (S.PROCESSING, S.FAILED), (S.PROCESSING, S.CANCELED), (S.PROCESSING, S.EXPIRED),
    (S.SUCCEEDED, S.PARTIALLY_REFUNDED), (S.SUCCEEDED, S.REFUNDED), (S.SUCCEEDED, S.DISPUTED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED), (S.PARTIALLY_REFUNDED, S.DISPUTED),
}
PAIRS = [(a, b) for a in S for b in S if a != b]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_table(old, new):
    assert can_transition(old, new) is ((old, new) in ALLOWED)
    payment = PaymentIntent(status=old, applied_amount=1, gross_amount=1)
    if (old, new) in ALLOWED:
        assert payment.transition(new) is True
        assert payment.status == new
    else:
        with pytest.raises(InvalidTransition):
            payment.transition(new)
        assert payment.status == old


@pytest.mark.parametrize("status", list(S))
def test_same_status_is_no_change(status):
    payment = PaymentIntent(status=status, applied_amount=1, gross_amount=1)
    assert payment.transition(status) is False


@pytest.mark.parametrize("terminal", [S.FAILED, S.CANCELED, S.EXPIRED, S.REFUNDED, S.DISPUTED])
def test_terminal_states_never_move(terminal):
    assert not any(can_transition(terminal, other) for other in S)
