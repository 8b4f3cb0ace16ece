from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The built-in sandbox payment gateway: a fake gateway 'server' living inside jasa."""

    name = "jasa.sandbox"
    label = "sandbox"
