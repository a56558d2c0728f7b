"""The server's routes."""

from __future__ import annotations

from django.urls import include, path

from grader.server import api, pages

urlpatterns = [
    path("", pages.home),
    path("healthz", api.healthz),
    path("api/v1/openapi.json", api.openapi),
    path("api/v1/submissions", api.submissions),
    path("api/v1/submissions/<str:ident>", api.submission),
    path("", include("grader.server.console.urls")),  # the TA's console (docs/console.md)
]
