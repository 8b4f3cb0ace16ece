"""Models of catalog."""

from django.db import models  # noqa: F401
