"""The queue page's counts as signed deltas that triggers on review_queueitem append (see
``review.models.QueueCount``), and the counts of the open items already there.

PostgreSQL: statement-level triggers with transition tables, one aggregated insert per
statement however many rows it touched. SQLite: row-level triggers (it has no others).
The score bands are ``review.queue.selectors.SCORE_BANDS`` as they were when this was written;
a change to those needs a migration that reinstalls the triggers.
"""

# The SQL below is built from this file's constants, never from input.
# ruff: noqa: S608
from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

BANDS = {"high": (0.9, 1.01), "medium": (0.7, 0.9), "low": (0.0, 0.7)}
OPEN = "('waiting', 'claimed')"
COLUMNS = "tenant_id, status, characteristic_bits, band, n"


def _band(row: str = "") -> str:
    column = f"{row}.probability" if row else "probability"
    whens = " ".join(
        f"WHEN {column} >= {low} AND {column} < {high} THEN '{name}'"
        for name, (low, high) in BANDS.items()
    )
    return f"CASE {whens} ELSE '' END"


def _key(row: str = "") -> str:
    prefix = f"{row}." if row else ""
    return f"{prefix}tenant_id, {prefix}status, {prefix}characteristic_bits, {_band(row)}"


def _plpgsql(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body};
    RETURN NULL;
END;
$$"""


POSTGRESQL = [
    _plpgsql(
        "review_queuecount_from_insert",
        f"""INSERT INTO review_queuecount ({COLUMNS})
    SELECT {_key()}, count(*) FROM new_rows WHERE status IN {OPEN} GROUP BY 1, 2, 3, 4""",
    ),
    _plpgsql(
        "review_queuecount_from_delete",
        f"""INSERT INTO review_queuecount ({COLUMNS})
    SELECT {_key()}, -count(*) FROM old_rows WHERE status IN {OPEN} GROUP BY 1, 2, 3, 4""",
    ),
    # An update that leaves every key as it was (a lease renewal, a new assessment with the
    # same characteristics and band) nets to zero and appends nothing.
    _plpgsql(
        "review_queuecount_from_update",
        f"""INSERT INTO review_queuecount ({COLUMNS})
    SELECT tenant_id, status, characteristic_bits, band, sum(n) FROM (
        SELECT {_key()} AS band, -1 AS n FROM old_rows WHERE status IN {OPEN}
        UNION ALL
        SELECT {_key()}, 1 FROM new_rows WHERE status IN {OPEN}
    ) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0""",
    ),
    """CREATE TRIGGER review_queuecount_insert AFTER INSERT ON review_queueitem
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_queuecount_from_insert()""",
    """CREATE TRIGGER review_queuecount_delete AFTER DELETE ON review_queueitem
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_queuecount_from_delete()""",
    """CREATE TRIGGER review_queuecount_update AFTER UPDATE ON review_queueitem
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_queuecount_from_update()""",
]

SQLITE = [
    f"""CREATE TRIGGER review_queuecount_insert AFTER INSERT ON review_queueitem
    WHEN NEW.status IN {OPEN}
    BEGIN
        INSERT INTO review_queuecount ({COLUMNS}) VALUES ({_key("NEW")}, 1);
    END""",
    # SQLite has no TRUNCATE: Django's test runner empties tables with DELETE, in any
    # order. An item deleted after its tenant appends nothing, and a deleted tenant takes
    # its counts with it (the ON DELETE CASCADE Django does not write), so no order leaves
    # a count behind or one that names a missing tenant.
    f"""CREATE TRIGGER review_queuecount_delete AFTER DELETE ON review_queueitem
    WHEN OLD.status IN {OPEN}
        AND EXISTS (SELECT 1 FROM review_tenant WHERE id = OLD.tenant_id)
    BEGIN
        INSERT INTO review_queuecount ({COLUMNS}) VALUES ({_key("OLD")}, -1);
    END""",
    f"""CREATE TRIGGER review_queuecount_update
    AFTER UPDATE OF tenant_id, status, characteristic_bits, probability ON review_queueitem
    WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.status IS NOT NEW.status
        OR OLD.characteristic_bits IS NOT NEW.characteristic_bits
        OR {_band("OLD")} IS NOT {_band("NEW")}
    BEGIN
        INSERT INTO review_queuecount ({COLUMNS})
            SELECT {_key("OLD")}, -1 WHERE OLD.status IN {OPEN};
        INSERT INTO review_queuecount ({COLUMNS})
            SELECT {_key("NEW")}, 1 WHERE NEW.status IN {OPEN};
    END""",
    """CREATE TRIGGER review_queuecount_tenant_delete AFTER DELETE ON review_tenant
    BEGIN
        DELETE FROM review_queuecount WHERE tenant_id = OLD.id;
    END""",
]

BACKFILL = f"""INSERT INTO review_queuecount ({COLUMNS})
    SELECT {_key()}, count(*) FROM review_queueitem WHERE status IN {OPEN} GROUP BY 1, 2, 3, 4"""

TRIGGERS = ("insert", "delete", "update")
REMOVE = {
    "postgresql": [
        *(f"DROP TRIGGER IF EXISTS review_queuecount_{t} ON review_queueitem" for t in TRIGGERS),
        *(f"DROP FUNCTION IF EXISTS review_queuecount_from_{t}()" for t in TRIGGERS),
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS review_queuecount_{t}" for t in [*TRIGGERS, "tenant_delete"]
    ],
}


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in REMOVE:
        raise RuntimeError(
            f"the queue count triggers are written for PostgreSQL and SQLite, not {vendor}"
        )
    # The triggers and the counts of what is already queued commit together: PostgreSQL's
    # CREATE TRIGGER locks the table against writers until then.
    statements = POSTGRESQL if vendor == "postgresql" else SQLITE
    for statement in [*statements, BACKFILL]:
        schema_editor.execute(statement, params=None)


def remove(apps: Any, schema_editor: Any) -> None:
    for statement in REMOVE[schema_editor.connection.vendor]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("review", "0017_training_runs")]

    operations = [
        migrations.CreateModel(
            name="QueueCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("waiting", "Waiting"),
                            ("claimed", "Claimed"),
                            ("decided", "Decided"),
                        ],
                        max_length=20,
                    ),
                ),
                ("characteristic_bits", models.IntegerField()),
                ("band", models.CharField(max_length=10)),
                ("n", models.IntegerField()),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="review.tenant",
                    ),
                ),
            ],
        ),
        migrations.RunPython(install, remove),
    ]
