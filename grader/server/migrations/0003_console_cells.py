"""An index that covers the console's grid query (grader/server/console/grid.py): each
learner's attempts per exercise, newest first, read from the index alone (a submission's
row holds its result, a few KB: a scan of 90,000 rows would read hundreds of MB)."""

from django.db import migrations

COLUMNS = "course_id, state, counts, learner_id, exercise, received_at, id, score"


class Migration(migrations.Migration):

    dependencies = [("server", "0002_console")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX console_cells ON server_submission ({COLUMNS})",
                          "DROP INDEX console_cells"),
    ]
