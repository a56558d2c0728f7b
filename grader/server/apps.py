"""The Django application of `grade serve` (its label names its tables)."""

from __future__ import annotations

from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "grader.server"
    label = "server"
    default_auto_field = "django.db.models.BigAutoField"
