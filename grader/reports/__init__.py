"""Renderers: turn `grader.results` models into what people and programs read."""
