"""Escalation cases: the editor, approval, and the reporting targets (NCMEC, law enforcement)."""
