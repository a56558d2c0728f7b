"""The console's facts of each graded result as columns (grader/server/facts.py):
the grid's state filter and the grade tables read them instead of parsing results."""

from typing import Any

from django.db import migrations, models

LATEST = ("course_id, learner_id, exercise, counts, score, best, attempts, error_kind, "
          "max_score, received_at, sha256, id")


def store_facts(apps: Any, schema_editor: Any) -> None:
    """The facts of every result graded before this migration (once, here, rather than
    in the first console request after the upgrade)."""
    from grader.server import facts

    submission = apps.get_model("server", "Submission")
    for course in apps.get_model("server", "Course").objects.all():
        facts.sync(course, submission)


class Migration(migrations.Migration):

    dependencies = [("server", "0005_regrade_requests")]

    operations = [
        migrations.AddField("submission", "facts_at", models.DateTimeField(
            null=True, help_text="the graded_at the facts are of")),
        migrations.AddField("submission", "max_score", models.FloatField(null=True)),
        migrations.AddField("submission", "error_kind", models.CharField(
            max_length=20, default="", blank=True)),
        migrations.AddField("submission", "latest", models.BooleanField(
            default=False, help_text="the newest counted attempt")),
        migrations.AddField("submission", "top", models.BooleanField(
            default=False, help_text="the best counted attempt (newest tie)")),
        migrations.AddField("submission", "attempts", models.IntegerField(
            default=0, help_text="on the latest: counted attempts")),
        migrations.AddField("submission", "best", models.FloatField(
            null=True, help_text="on the latest: the best score")),
        # Partial indexes: only the newest (best) attempt of each learner and exercise;
        # the newest's covers every column the grid and the grade tables read of it.
        migrations.RunSQL(f"CREATE INDEX console_latest ON server_submission ({LATEST}) "
                          "WHERE latest", "DROP INDEX console_latest"),
        migrations.RunSQL("CREATE INDEX console_top ON server_submission "
                          "(course_id, learner_id, exercise) WHERE top", "DROP INDEX console_top"),
        migrations.RunSQL("CREATE INDEX console_facts ON server_submission "
                          "(course_id, facts_at)", "DROP INDEX console_facts"),
        migrations.RunSQL("CREATE INDEX console_graded ON server_submission "
                          "(course_id, state, graded_at)", "DROP INDEX console_graded"),
        migrations.RunPython(store_facts, migrations.RunPython.noop),
    ]
