"""Jupyter notebooks: learners' notebooks, notebook skeletons, nbgrader export and grades.

Modules are imported on demand: nbformat and nbgrader are slow to import.
"""
