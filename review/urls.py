from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from review import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", auth_views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password",
        auth_views.PasswordChangeView.as_view(success_url="/password/done"),
        name="password_change",
    ),
    path(
        "password/done",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("preferences/calm", views.toggle_calm, name="toggle_calm"),
    path("t/<slug:tenant_slug>/queue", views.queue, name="queue"),
    path("t/<slug:tenant_slug>/next", views.take_next, name="next"),
    path("t/<slug:tenant_slug>/items/<int:item_id>", views.review, name="review"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/decide", views.decide, name="decide"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/release", views.release, name="release"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/renew", views.renew, name="renew"),
    path(
        "t/<slug:tenant_slug>/items/<int:item_id>/messages/<int:message_id>/reveal",
        views.reveal,
        name="reveal",
    ),
    path("t/<slug:tenant_slug>/decisions", views.decision_log, name="decision_log"),
    path(
        "t/<slug:tenant_slug>/cases/<int:case_id>/package",
        views.case_package,
        name="case_package",
    ),
]
