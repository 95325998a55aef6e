"""The model registry. A pickled artifact is code, so a file is loaded only when its SHA-256
matches a row here (see ``scoring.artifacts.load_engine``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce


class ModelVersion(models.Model):
    # Null tenant: the default model every tenant starts from.
    tenant = models.ForeignKey(
        "review.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="model_versions",
    )
    version = models.CharField(max_length=64, unique=True)  # sha256[:12] of the artifact
    # The artifact lives in the database, so a worker on any machine can load it; it is read
    # only through scoring.services, which checks the SHA-256 before unpickling.
    artifact = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    sklearn_version = models.CharField(max_length=32)
    data_fingerprint = models.CharField(max_length=64)
    training_source = models.CharField(max_length=200)
    metrics = models.JSONField(default=dict)
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Coalesce so the default (null tenant) also has at most one active version, on
            # SQLite as well as PostgreSQL (NULLs are distinct in a plain unique index).
            models.UniqueConstraint(
                Coalesce("tenant", 0),
                condition=Q(is_active=True),
                name="modelversion_one_active_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"model {self.version}"
