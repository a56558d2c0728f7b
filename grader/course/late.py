"""Late-work arithmetic: from a deadline, a submission time and a policy to a penalty.

Lateness is counted from the deadline, to the second. Within the grace minutes a
submission is on time. Past them every started period (day or hour) from the
deadline costs `penalty_percent` of the exercise's points, up to `cap_percent`; so
one second past the grace of a daily policy is one day late. A policy that does not
accept late work scores it 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from grader.course.model import LatePolicy

PERIOD = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what it costs, in points."""

    late_by: timedelta  # zero or negative: on time
    periods: int  # started periods past the deadline that are charged
    penalty: float  # points taken
    refused: bool  # late work not accepted: the score is 0

    @property
    def on_time(self) -> bool:
        return self.periods == 0 and not self.refused


def lateness(policy: LatePolicy, deadline: datetime, submitted: datetime,
             max_score: float) -> Lateness:
    """What `policy` takes from work worth `max_score` handed in at `submitted`."""
    late_by = submitted - deadline
    if late_by <= timedelta(minutes=policy.grace_minutes):
        return Lateness(late_by, 0, 0.0, False)
    if not policy.accepted:
        return Lateness(late_by, 0, 0.0, True)
    periods = math.ceil(late_by / PERIOD[policy.per])
    percent = min(policy.cap_percent, periods * policy.penalty_percent)
    return Lateness(late_by, periods, round(max_score * percent / 100, 6), False)


def describe(late_by: timedelta) -> str:
    """`late_by` as people say it: '1 day 2 h 3 min', '1 s'."""
    seconds = int(late_by.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} day{'s' * (days != 1)}" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else "", f"{seconds} s" if seconds else ""]
    return " ".join(p for p in parts if p) or "0 s"
