"""Intake: what platforms send (the REST API, the idempotent ingest) and the bridge to scoring."""
