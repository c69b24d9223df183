"""Tracking URLs: short, because they appear on every page of customers' sites."""

from django.urls import path

from visitors import views

urlpatterns = [
    path("t/e", views.ingest, name="visitors_ingest"),
    path("t/s.js", views.snippet, name="visitors_snippet"),
]
