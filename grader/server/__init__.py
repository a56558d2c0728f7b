"""`grade serve`: the course server (Django) learners submit to; an optional extra."""
