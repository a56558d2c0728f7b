"""Who may do what in a course's console: instructors everything, TAs grading,
adjustments and extensions; learners (a token session, no staff account) nothing here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect

from grader.server.models import Course, Role

View = Callable[..., HttpResponse]
STAFF = (Role.INSTRUCTOR, Role.TA)


def role_in(request: HttpRequest, course: Course) -> str | None:
    if not request.user.is_authenticated:
        return None
    found = Role.objects.filter(course=course, user=request.user).first()
    return found.role if found else None


def staff(*roles: str) -> Callable[[View], View]:
    """The view for staff of the URL's course with one of `roles`: anonymous callers go
    to /login/, a learner's session or a staff account of another role gets 403, and a
    course the account has no role in is 404 (its name tells nothing)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, slug: str, *args: Any, **kwargs: Any
                    ) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.session.get("learner") is not None:
                    return HttpResponseForbidden("the console is for the course's staff")
                return redirect(f"/login/?next={request.path}")
            course = Course.objects.filter(slug=slug).first()
            role = role_in(request, course) if course else None
            if course is None or role is None:
                raise Http404("no such course of yours")
            if role not in roles:
                return HttpResponseForbidden(f"a {role} may not do this")
            request.role = role
            return view(request, course, *args, **kwargs)

        return guarded

    return wrap
