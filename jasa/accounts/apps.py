from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jasa.accounts"
    label = "accounts"
    verbose_name = "Accounts and workspaces"
