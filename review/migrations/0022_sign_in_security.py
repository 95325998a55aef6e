"""Sign-in security (issue 12): the tenant's two-factor requirement, the new audit actions,
and the database cache table that holds throttle state shared by every web process."""

import importlib

from django.core.management import call_command
from django.db import migrations, models

queue_counts = importlib.import_module("review.migrations.0018_queue_counts")


def sqlite_drop_count_triggers(apps, schema_editor):
    # SQLite adds a NOT NULL column by rebuilding the table: the rebuilt review_tenant
    # would lose its count trigger, and the rename fails on the queue item trigger that
    # names review_tenant. Drop them around the rebuild, then put them back unchanged
    # (the counts themselves stay: no queue item changes in between).
    if schema_editor.connection.vendor == "sqlite":
        queue_counts.remove(apps, schema_editor)


def sqlite_restore_count_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in queue_counts.SQLITE:
            schema_editor.execute(statement, params=None)


def create_cache_table(apps, schema_editor):
    # Creates the table of each configured DatabaseCache (none when ARTEMIS_CACHE_URL names
    # Redis); it skips a table that exists, so running it again is harmless.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ('review', '0021_invitations'),
    ]

    operations = [
        migrations.RunPython(sqlite_drop_count_triggers, sqlite_restore_count_triggers),
        migrations.AddField(
            model_name='tenant',
            name='require_two_factor',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(sqlite_restore_count_triggers, sqlite_drop_count_triggers),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('view', 'Viewed a conversation'), ('claim', 'Claimed a queue item'), ('release', 'Released a queue item'), ('lease_expired', 'Lease expired'), ('decision', 'Decided'), ('reveal', 'Revealed a hidden message'), ('export', 'Exported data'), ('login', 'Signed in'), ('logout', 'Signed out'), ('login_failed', 'Failed sign-in'), ('login_locked', 'Sign-in locked after repeated failures'), ('login_unlock', "Unlocked a member's sign-in"), ('two_factor_enrol', 'Set up two-factor sign-in'), ('two_factor_verify', 'Passed two-factor sign-in'), ('two_factor_failed', 'Entered a wrong two-factor code'), ('two_factor_recovery', 'Signed in with a recovery code'), ('two_factor_reset', "Reset a member's two-factor sign-in"), ('two_factor_policy', 'Changed who must use two-factor sign-in'), ('api_read', 'Platform read a conversation'), ('case_open', 'Opened an escalation case'), ('case_edit', 'Edited an escalation case'), ('case_transition', 'Moved an escalation case'), ('case_view', 'Viewed an escalation case'), ('ncmec', 'Exchanged with the CyberTipline'), ('package_download', 'Downloaded a referral package'), ('model_train', 'Trained a challenger model'), ('model_activate', 'Changed the model in use'), ('model_train_request', 'Asked to train a challenger model'), ('model_train_failed', 'Training a challenger model failed'), ('second_review', 'Recorded a blind second review'), ('resolve', 'Resolved a second-review disagreement'), ('report_view', 'Viewed a supervision page'), ('member_add', 'Added a member'), ('member_role', "Changed a member's role"), ('member_remove', 'Removed a member'), ('api_key_create', 'Created an API key'), ('api_key_revoke', 'Revoked an API key'), ('policy_change', 'Changed the tenant policy'), ('retention_purge', 'Purged expired conversations')], max_length=40),
        ),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
