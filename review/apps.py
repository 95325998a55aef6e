from __future__ import annotations

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from review import signals  # noqa: F401  (connects the audit receivers)
        from review.reporting.targets import targets_check

        targets_check()  # a broken reporting target stops the app here, named
