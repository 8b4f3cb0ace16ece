from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "jasa.subscriptions"
    label = "subscriptions"
