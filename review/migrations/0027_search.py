"""Search (issue 11): the audit actions of a search and of opening a participant page, and,
on PostgreSQL only, a GIN index for the full-text search of message text.

The index is on the same expression the search runs (``review.search.selectors``:
``SearchVector("text", config="english")``), so PostgreSQL uses it; it is built CONCURRENTLY
(hence ``atomic = False``) so ingest goes on writing during a deploy. SQLite has no full-text
index of this kind and searches with a plain substring, so it gets nothing.
"""

from django.db import migrations, models

INDEX = "message_text_search"


def _index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(SearchVector("text", config="english"), name=INDEX)


def add_text_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    message = apps.get_model("review", "Message")
    schema_editor.add_index(message, _index(), concurrently=True)


def remove_text_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    message = apps.get_model("review", "Message")
    schema_editor.remove_index(message, _index(), concurrently=True)


class Migration(migrations.Migration):
    # The index builds CONCURRENTLY on PostgreSQL, which cannot run in a transaction.
    atomic = False

    dependencies = [
        ('review', '0026_case_target_neutral'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('view', 'Viewed a conversation'), ('claim', 'Claimed a queue item'), ('release', 'Released a queue item'), ('lease_expired', 'Lease expired'), ('decision', 'Decided'), ('reveal', 'Revealed a hidden message'), ('export', 'Exported data'), ('login', 'Signed in'), ('logout', 'Signed out'), ('login_failed', 'Failed sign-in'), ('login_locked', 'Sign-in locked after repeated failures'), ('login_unlock', "Unlocked a member's sign-in"), ('two_factor_enrol', 'Set up two-factor sign-in'), ('two_factor_verify', 'Passed two-factor sign-in'), ('two_factor_failed', 'Entered a wrong two-factor code'), ('two_factor_recovery', 'Signed in with a recovery code'), ('two_factor_reset', "Reset a member's two-factor sign-in"), ('two_factor_policy', 'Changed who must use two-factor sign-in'), ('api_read', 'Platform read a conversation'), ('case_open', 'Opened an escalation case'), ('case_edit', 'Edited an escalation case'), ('case_transition', 'Moved an escalation case'), ('case_view', 'Viewed an escalation case'), ('ncmec', 'Exchanged with the CyberTipline'), ('package_download', 'Downloaded a referral package'), ('model_train', 'Trained a challenger model'), ('model_activate', 'Changed the model in use'), ('model_train_request', 'Asked to train a challenger model'), ('model_train_failed', 'Training a challenger model failed'), ('second_review', 'Recorded a blind second review'), ('resolve', 'Resolved a second-review disagreement'), ('report_view', 'Viewed a supervision page'), ('member_add', 'Added a member'), ('member_role', "Changed a member's role"), ('member_remove', 'Removed a member'), ('invitation_send', 'Invited someone to the tenant'), ('invitation_accept', 'Accepted an invitation'), ('invitation_decline', 'Declined an invitation'), ('invitation_revoke', 'Revoked an invitation'), ('api_key_create', 'Created an API key'), ('api_key_revoke', 'Revoked an API key'), ('policy_change', 'Changed the tenant policy'), ('retention_purge', 'Purged expired conversations'), ('search', 'Searched'), ('participant_view', "Viewed a participant's page")], max_length=40),
        ),
        migrations.RunPython(add_text_index, remove_text_index),
    ]
