"""Models of the sandbox gateway."""

from django.db import models  # noqa: F401
