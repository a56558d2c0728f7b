"""The console's routes, under /console/ (and /login/, /logout/)."""

from __future__ import annotations

from django.contrib.auth import views as auth
from django.urls import path

from grader.server.console import regrades, views

urlpatterns = [
    path("login/", auth.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth.LogoutView.as_view(next_page="/login/"), name="logout"),
    path("api/v1/regrades", regrades.learner_requests),
    path("api/v1/regrades/<int:ident>/messages", regrades.learner_reply),
    path("api/v1/submissions/<str:ident>/regrades", regrades.learner_requests),
    path("console/<str:slug>/regrades/", regrades.staff_requests),
    path("console/", views.index),
    path("console/static/<str:name>", views.static),
    path("console/<str:slug>/", views.class_grid),
    path("console/<str:slug>/grid.json", views.grid_json),
    path("console/<str:slug>/learner/<int:ident>/", views.learner_page),
    path("console/<str:slug>/learner/<int:ident>/adjust", views.adjust),
    path("console/<str:slug>/learner/<int:ident>/extend", views.extend),
    path("console/<str:slug>/learner/<int:ident>/mark", views.mark),
    path("console/<str:slug>/rubric/<str:exercise>/", views.rubric),
    path("console/<str:slug>/publish", views.publish),
    path("console/<str:slug>/blind", views.blind),
    path("console/<str:slug>/insight/", views.insight),
    path("console/<str:slug>/similarity/<str:exercise>/", views.similarity),
    path("console/<str:slug>/export.zip", views.export_zip),
    path("console/<str:slug>/exports/", views.exports_page),
    path("console/<str:slug>/changes/", views.changes),
    path("console/<str:slug>/export/<str:name>", views.export_file),
    path("console/<str:slug>/ledger/", views.ledger),
    path("console/<str:slug>/staff/", views.staff_accounts),
]
