"""Escalation cases: the editor, approval, delivery, the NCMEC report and the package.

Mounted under ``t/<tenant>/`` with the namespace ``cases``.
"""

from __future__ import annotations

from django.urls import path

from review.cases import views

app_name = "cases"

urlpatterns = [
    # Escalation cases (review/cases/views.py).
    path("cases", views.case_list, name="cases"),
    path("cases/inbox", views.case_inbox, name="case_inbox"),
    path("cases/<int:case_id>", views.case_page, name="case"),
    path("cases/<int:case_id>/submit", views.case_submit, name="case_submit"),
    path("cases/<int:case_id>/approve", views.case_approve, name="case_approve"),
    path(
        "cases/<int:case_id>/send-back",
        views.case_send_back,
        name="case_send_back",
    ),
    path("cases/<int:case_id>/deliver", views.case_deliver, name="case_deliver"),
    path("cases/<int:case_id>/extend", views.case_extend, name="case_extend"),
    path("cases/<int:case_id>/close", views.case_close, name="case_close"),
    path("cases/<int:case_id>/ncmec", views.case_ncmec, name="case_ncmec"),
    path(
        "cases/<int:case_id>/package",
        views.case_package,
        name="case_package",
    ),
]
