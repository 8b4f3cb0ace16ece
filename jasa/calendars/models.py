"""Models of calendars."""

from django.db import models  # noqa: F401
