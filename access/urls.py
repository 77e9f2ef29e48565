"""The second-factor pages, under ``/admin/factor/`` (config.urls mounts them before the admin)."""

from django.urls import path

from access import views

app_name = "access"

urlpatterns = [
    path("enrol/", views.enrol, name="enrol"),
    path("recovery-codes/", views.codes, name="recovery-codes"),
]
