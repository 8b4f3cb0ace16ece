"""Demo data of the sandbox gateway: the demo workspace takes payments through it, with every method."""

from __future__ import annotations

from jasa.core.demo import demo_part


@demo_part(order=10)  # before bookings, projects and subscriptions start payments
def load_sandbox_demo(workspace, people) -> None:
    from jasa.payments.gateways.base import Method
    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.services import merchant_for_workspace

    merchant = merchant_for_workspace(workspace)
    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, enabled=True,
                         is_default=True, sandbox=True, enabled_methods=[m.value for m in Method])
