"""The scoring app's one domain error."""

from __future__ import annotations


class ScoringError(Exception):
    """Scoring cannot proceed: no registered model, an artifact that fails its checksum, bad
    training data. The message names what is wrong and, where it can, what to do."""
