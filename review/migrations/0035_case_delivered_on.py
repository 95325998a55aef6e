"""A hand-delivered referral's date apart from the time it was recorded.

Until now ``submitted_at`` held midnight of the date the supervisor gave, so the referral
package's ``delivered_at_utc`` claimed a time of day nobody gave. Each such case gets
``delivered_on`` from the delivery's audit event (the date as the supervisor entered it), and
``submitted_at`` the time that event was recorded.
"""

from datetime import date

from django.db import migrations, models
from django.utils import timezone


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Case = apps.get_model("review", "Case")
    AuditEvent = apps.get_model("review", "AuditEvent")
    # Whatever the target: a delivery recorded by hand is the move to "submitted" whose
    # audit event carries the date the supervisor gave.
    deliveries = AuditEvent.objects.filter(
        action="case_transition",
        target_type="case",
        detail__to="submitted",
        detail__has_key="delivered_on",
    ).order_by("sequence")
    for event in deliveries.iterator():
        case = Case.objects.filter(
            pk=int(event.target_id), tenant_id=event.tenant_id, delivered_on__isnull=True
        ).first()
        if case is None or case.submitted_at is None:
            continue
        try:
            case.delivered_on = date.fromisoformat(str(event.detail["delivered_on"]))
        except ValueError:
            case.delivered_on = timezone.localdate(case.submitted_at)
        case.submitted_at = event.created_at
        case.save(update_fields=["delivered_on", "submitted_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0034_audit_action_label_of_page_views"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="delivered_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
