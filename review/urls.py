"""The console's URLs: the pages outside a tenant (sign-in, two-factor, invitations), then
each area's pages under ``t/<tenant>/``, namespaced by area."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from review.operations import views as operations_views
from review.signin import views as signin_views
from review.tenancy import views as tenancy_views

# Each area's pages, under the tenant's slug; names are namespaced by area
# ({% url "cases:case" tenant.slug case.pk %}).
tenant_urlpatterns = [
    path("", include("review.appeals.urls")),
    path("", include("review.audit.urls")),
    path("", include("review.cases.urls")),
    path("", include("review.decisions.urls")),
    path("", include("review.policy.urls")),
    path("", include("review.queue.urls")),
    path("", include("review.search.urls")),
    path("", include("review.signin.urls")),
    path("", include("review.tenancy.urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    # Probes for the orchestrator (review/operations/views.py); the metrics have their own
    # port (manage.py serve_metrics).
    path("healthz", operations_views.healthz, name="healthz"),
    path("readyz", operations_views.readyz, name="readyz"),
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
    # The second step of signing in (review/signin/two_factor.py sends members here).
    path("two-factor/setup", signin_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/recovery-codes", signin_views.two_factor_codes, name="two_factor_codes"),
    path("two-factor/verify", signin_views.two_factor_verify, name="two_factor_verify"),
    path("preferences/calm", tenancy_views.toggle_calm, name="toggle_calm"),
    # A signed-in person's invitations to join tenants (review/tenancy/views.py).
    path("invitations", tenancy_views.invitations, name="invitations"),
    path(
        "invitations/<int:invitation_id>/accept",
        tenancy_views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline",
        tenancy_views.invitation_decline,
        name="invitation_decline",
    ),
    path("t/<slug:tenant_slug>/", include(tenant_urlpatterns)),
]
