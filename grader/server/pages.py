"""The learner's page: sign in with the personal token (a session, CSRF-protected form),
then their attempts and feedback."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from grader.server.accounts import learner_of
from grader.server.models import Learner

PAGE = ("<!doctype html><html lang=en><meta charset=utf-8><title>grade</title>"
        "<body style='font-family:sans-serif;max-width:50em;margin:auto'>{}</body></html>")


def _signed_in(request: HttpRequest) -> Learner | None:
    ident = request.session.get("learner")
    return Learner.objects.filter(id=ident).first() if isinstance(ident, int) else None


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        learner = learner_of(str(request.POST.get("token", "")).strip())
        if learner is not None:
            request.session.cycle_key()  # a new session id at sign-in (no fixation)
            request.session["learner"] = learner.id
            return HttpResponseRedirect("/")
        return _form(request, "That token is not known here.")
    learner = _signed_in(request)
    return _form(request, "") if learner is None else _attempts(learner)


def _form(request: HttpRequest, note: str) -> HttpResponse:
    body = format_html(
        "<h1>Sign in</h1><p>{}</p><form method=post>"
        "<input type=hidden name=csrfmiddlewaretoken value='{}'>"
        "<label>Your token <input name=token type=password autocomplete=off></label> "
        "<button>Sign in</button></form>", note, get_token(request))
    return HttpResponse(PAGE.format(body))


def _attempts(learner: Learner) -> HttpResponse:
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((s.received_at.isoformat(timespec="seconds"), s.exercise, s.state,
          "" if s.score is None else s.score)
         for s in learner.submissions.order_by("-received_at")[:200]))
    body = format_html("<h1>{} ({})</h1><table><tr><th>received<th>exercise<th>state<th>score"
                       "</tr>{}</table>", learner.student, learner.course.title, rows)
    return HttpResponse(PAGE.format(body))
