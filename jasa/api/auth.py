"""API authentication: the session (with CSRF) for the browser, or a workspace API key as a Bearer token."""

from __future__ import annotations

from ninja.security import django_auth

session_auth = django_auth
