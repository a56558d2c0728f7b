"""Jupyter notebooks out: notebook skeletons (build.py), the in-kernel grading that
nbgrader's test cells call (kernel.py), and the kernel's history of runs (history.py).
Learners' notebooks, and kernel histories, become a Source in grader.runner.

Modules are imported on demand: nbformat is slow to import.
"""
