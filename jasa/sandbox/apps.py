from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The built-in sandbox payment gateway: a fake gateway 'server' living inside jasa."""

    name = "jasa.sandbox"
    label = "sandbox"
    verbose_name = "sandbox gateway"

    def ready(self) -> None:
        from jasa.sandbox import jobs, tasks  # noqa: F401 - register job handlers and queue tasks
        from jasa.web.nav import portal_section

        # The client's pay pages (jasa.payments.views_client) come with the sandbox's author; so does
        # their section of /portal/: each business's invoices with pay links, and the receipts page.
        portal_section("payments/client/_portal.html", order=30)
