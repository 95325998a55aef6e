"""The Celery app. Workers run ``celery -A artemis worker``; see README for scaling."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artemis.settings")

app = Celery("artemis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
