"""Make the audit table append-only on PostgreSQL: a trigger refuses UPDATE and DELETE.

TRUNCATE is not refused (the test runner flushes tables between tests); nothing in Artemis
truncates in production, and a database owner who can truncate can also drop triggers.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION review_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on review_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER review_auditevent_append_only
    BEFORE UPDATE OR DELETE ON review_auditevent
    FOR EACH ROW EXECUTE FUNCTION review_auditevent_refuse_change();
"""
REMOVE = """
DROP TRIGGER IF EXISTS review_auditevent_append_only ON review_auditevent;
DROP FUNCTION IF EXISTS review_auditevent_refuse_change();
"""


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)  # the "%" in RAISE is not a placeholder


def remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("review", "0002_audit_trail")]

    operations = [migrations.RunPython(install, remove)]
