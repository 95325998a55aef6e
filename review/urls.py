from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from review import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", auth_views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:tenant_slug>/queue", views.queue, name="queue"),
]
