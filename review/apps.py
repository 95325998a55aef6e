from __future__ import annotations

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from review.cases.targets import targets_check
        from review.signin import signals  # noqa: F401  (connects the audit receivers)

        targets_check()  # a broken reporting target stops the app here, named
