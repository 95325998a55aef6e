"""factory_boy factories for the review domain."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from review.models import Membership, Role, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Platform {n}")
    slug = factory.Sequence(lambda n: f"platform-{n}")
    # No blind second reviews unless a test asks for them (supervision_support's
    # sample_every_decision). The draw hashes the decision's id, and on PostgreSQL ids
    # depend on the tests run before, so the default share of 0.1 made about one run in
    # ten hide a verdict or an earlier decision from a possible second reviewer.
    second_review_share = 0.0


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.MODERATOR
