"""Decisions: verdicts, a moderator's decision, blind second reviews, supervision, agreement."""
