"""The console's forms: Django validates every field before anything is stored."""

from __future__ import annotations

from django import forms


class AdjustForm(forms.Form):
    exercise = forms.CharField(max_length=100)
    check = forms.CharField(max_length=300, required=False,
                            help_text="blank: the points are the exercise's score")
    points = forms.FloatField(min_value=0)
    reason = forms.CharField(max_length=2000)


class ExtendForm(forms.Form):
    exercise = forms.CharField(max_length=100, required=False,
                               help_text="blank: every exercise")
    deadline = forms.DateTimeField(help_text="e.g. 2026-12-24T23:59:00+00:00")
    reason = forms.CharField(max_length=2000, required=False)


class PublishForm(forms.Form):
    exercise = forms.CharField(max_length=100)


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[("ta", "ta"), ("instructor", "instructor")])
    password = forms.CharField(min_length=10, widget=forms.PasswordInput)


class RubricForm(forms.Form):
    key = forms.IntegerField(min_value=1, max_value=9, help_text="the digit that marks it")
    label = forms.CharField(max_length=300)
    points = forms.FloatField(help_text="added when marked; negative to take points")
