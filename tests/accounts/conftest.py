import uuid

import pytest


@pytest.fixture
def fresh_cache_namespace(settings):
    """Give the test its own key prefix in the shared cache (rate limits start empty) without
    flushing anything other tests or processes keep there. Call it again for a new namespace."""

    def renew() -> None:
        caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
        caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
        settings.CACHES = caches  # setting_changed resets django.core.cache.caches

    renew()
    return renew
