"""Jupyter notebooks out: notebook skeletons (build.py) and the in-kernel grading that
nbgrader's test cells call (kernel.py). Learners' notebooks are read by grader.runner.

Modules are imported on demand: nbformat is slow to import.
"""
