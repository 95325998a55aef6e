"""Migration operations of Artemis' own."""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError, migrations


class AddIndexWithoutLocking(migrations.AddIndex):
    """``AddIndex`` that builds the index CONCURRENTLY on PostgreSQL, so ingest, scoring and
    claims go on writing while it builds on a large table; a plain CREATE INDEX elsewhere.
    The migration must say ``atomic = False``. A build that fails leaves an INVALID index,
    to drop before the migration runs again."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_online(schema_editor))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_online(schema_editor))


def _online(schema_editor: Any) -> dict[str, bool]:
    if schema_editor.connection.vendor != "postgresql":
        return {}
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError("an index built CONCURRENTLY needs a migration with atomic = False")
    return {"concurrently": True}
