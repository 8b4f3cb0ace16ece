"""Shared fixtures. Real components wherever one runs here; fakes only for outside services."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from jasa.core import clock

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(autouse=True)
def _reset_clock():
    yield
    clock.unfreeze()


@pytest.fixture
def frozen_clock():
    """Freeze jasa's clock at a known instant (a Wednesday, 10:00 in Jakarta); tests move it with clock.advance."""
    at = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    clock.freeze(at)
    return clock


@pytest.fixture
def user_factory(db):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    counter = {"n": 0}

    def make(email: str | None = None, name: str = "", password: str = "pw-secret-123", verified: bool = True):
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.test"
        user = User.objects.create_user(email=email, password=password, name=name)
        if verified:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def workspace_factory(db, user_factory):
    from jasa.accounts.services import workspace_create

    counter = {"n": 0}

    def make(slug: str | None = None, owner=None, **fields):
        counter["n"] += 1
        owner = owner or user_factory()
        return workspace_create(owner=owner, name=fields.pop("name", f"Studio {counter['n']}"),
                                slug=slug or f"studio-{counter['n']}", **fields)

    return make


@pytest.fixture
def workspace(workspace_factory):
    return workspace_factory(slug="acme")


@pytest.fixture
def member_factory(db, user_factory):
    from jasa.accounts.models import Membership, StaffProfile

    def make(workspace, role: str = "staff", user=None):
        user = user or user_factory()
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        StaffProfile.objects.create(workspace=workspace, membership=membership, display_name=user.email.split("@")[0],
                                    time_zone=workspace.time_zone)
        return membership

    return make


pytest_plugins = ["tests.plugins.smtp", "tests.plugins.browser"]


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` race real processes against PostgreSQL. The SQLite pass of CI
    deselects them (they are not skipped: the PostgreSQL pass of the same suite runs them)."""
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
