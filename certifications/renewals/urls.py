"""The mentor's renewal page (outside the API and the admin)."""

from django.urls import path

from certifications.renewals.pages import renewal_page

urlpatterns = [path("renew/<str:token>", renewal_page, name="renewal-link")]
