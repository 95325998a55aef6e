"""The case becomes target-neutral (issue 13, reporting targets).

- ``Case.kind`` becomes ``Case.target`` (same values: "ncmec", "law_enforcement"; no choices,
  so a new target needs no migration of this table).
- The statuses "submitted" (NCMEC) and "delivered" (law enforcement) become one, "submitted";
  the case page says it in the target's words. Old audit events keep "delivered", which the
  history still names.
- The receipt is neutral: ``submitted_at``, ``submitted_to``, ``submission_reference``. A
  referral's ``delivered_at``/``delivered_to``/``delivery_reference`` become those; an NCMEC
  case's report id becomes its ``submission_reference``.
- NCMEC's own columns leave the case for ``NcmecSubmission`` (``file_ids``, ``receipt``; the
  report id it already held).

Data is copied both ways, so the migration can be reversed without loss.
"""

from django.db import migrations, models

NCMEC_RECIPIENT = "NCMEC CyberTipline"


def _immediate(schema_editor):
    # PostgreSQL refuses ALTER TABLE on a table with pending deferred-constraint checks from
    # rows written earlier in the same transaction; check them as they are written instead.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def forward(apps, schema_editor):
    _immediate(schema_editor)
    Case = apps.get_model("review", "Case")
    NcmecSubmission = apps.get_model("review", "NcmecSubmission")
    for case in Case.objects.exclude(ncmec_report_id="").iterator():
        submission, _ = NcmecSubmission.objects.get_or_create(
            case=case, defaults={"tenant_id": case.tenant_id}
        )
        submission.report_id = case.ncmec_report_id
        submission.file_ids = case.ncmec_file_ids or []
        submission.receipt = case.ncmec_receipt
        submission.state = "finished"
        submission.save()
        case.submitted_to = NCMEC_RECIPIENT
        case.submission_reference = case.ncmec_report_id
        case.save(update_fields=["submitted_to", "submission_reference"])
    for case in Case.objects.filter(delivered_at__isnull=False, submitted_at__isnull=True):
        case.submitted_at = case.delivered_at
        case.save(update_fields=["submitted_at"])
    Case.objects.filter(status="delivered").update(status="submitted")


def backward(apps, schema_editor):
    _immediate(schema_editor)
    Case = apps.get_model("review", "Case")
    NcmecSubmission = apps.get_model("review", "NcmecSubmission")
    Case.objects.filter(target="law_enforcement", status="submitted").update(status="delivered")
    for case in Case.objects.filter(target="law_enforcement", submitted_at__isnull=False):
        case.delivered_at, case.submitted_at = case.submitted_at, None
        case.save(update_fields=["delivered_at", "submitted_at"])
    for submission in NcmecSubmission.objects.filter(state="finished").select_related("case"):
        case = submission.case
        case.ncmec_report_id = submission.report_id
        case.ncmec_file_ids = submission.file_ids
        case.ncmec_receipt = submission.receipt
        case.save(update_fields=["ncmec_report_id", "ncmec_file_ids", "ncmec_receipt"])
    Case.objects.filter(target="ncmec").update(submitted_to="", submission_reference="")


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0025_auditor_role"),
    ]

    operations = [
        migrations.AddField(
            model_name="ncmecsubmission",
            name="file_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="ncmecsubmission",
            name="receipt",
            field=models.TextField(blank=True),
        ),
        migrations.RenameField(model_name="case", old_name="kind", new_name="target"),
        migrations.AlterField(
            model_name="case", name="target", field=models.CharField(max_length=40)
        ),
        migrations.RenameField(model_name="case", old_name="delivered_to", new_name="submitted_to"),
        migrations.RenameField(
            model_name="case", old_name="delivery_reference", new_name="submission_reference"
        ),
        migrations.AlterField(
            model_name="case",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("awaiting_approval", "Awaiting approval"),
                    ("approved", "Approved"),
                    ("submitted", "Submitted"),
                    ("preserved", "Preserved"),
                    ("closed", "Closed"),
                ],
                default="draft",
                max_length=20,
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="case", name="ncmec_report_id"),
        migrations.RemoveField(model_name="case", name="ncmec_file_ids"),
        migrations.RemoveField(model_name="case", name="ncmec_receipt"),
        migrations.RemoveField(model_name="case", name="delivered_at"),
    ]
