"""nbgrader configuration, written by `grade export nbgrader`.

Run nbgrader from this folder:
    nbgrader generate_assignment exercises
    nbgrader autograde exercises
The notebooks' autograded tests call the `grade` package: install it (pip install
grade) wherever nbgrader runs notebooks, i.e. in the kernel's environment.
"""

c = get_config()  # noqa: F821 (nbgrader provides it)
# A check cell may draw tens of thousands of samples: allow it time.
c.Execute.timeout = 30
