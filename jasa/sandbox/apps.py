from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The built-in sandbox payment gateway: a fake gateway 'server' living inside jasa."""

    name = "jasa.sandbox"
    label = "sandbox"
    verbose_name = "sandbox gateway"

    def ready(self) -> None:
        from jasa.sandbox import jobs, tasks  # noqa: F401 - register job handlers and queue tasks
