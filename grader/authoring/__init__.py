"""Course authoring: skeletons built from marked solutions, scaffolding, whole-course checks.

Data flows one way: `markers` turns one solution into one skeleton, `build` does it
for the course, `scaffold` adds an exercise, `validate` lists every problem.
"""

from grader.authoring.build import BuildError, build_course
from grader.authoring.markers import MarkerError, Skeleton, make_skeleton
from grader.authoring.problems import Problem
from grader.authoring.scaffold import ScaffoldError, new_exercise
from grader.authoring.validate import CourseReport, validate_course

__all__ = [
    "BuildError", "CourseReport", "MarkerError", "Problem", "ScaffoldError", "Skeleton",
    "build_course", "make_skeleton", "new_exercise", "validate_course",
]
