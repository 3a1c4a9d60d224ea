"""A complaint's root cause is asked for when it is logged (the service requires it); the
column stays nullable because complaints logged before have none, and the report counts
them as "Not classified". Only a complaint has a cause: the constraint says so, after
clearing causes an admin may have set on other kinds through the admin."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def clear_causes_of_non_complaints(apps, schema_editor):
    Interaction = apps.get_model("relationships", "Interaction")
    Interaction.objects.exclude(kind="complaint").filter(root_cause__isnull=False).update(
        root_cause=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_customer_segment_stage_index"),
        ("relationships", "0011_model_fit_diagnostics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="interaction",
            name="root_cause",
            field=models.ForeignKey(
                blank=True,
                help_text="For complaints: the root cause, so complaint analysis can count causes. Required when a complaint is logged; older complaints may have none.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="complaints",
                to="relationships.defectionreason",
            ),
        ),
        migrations.RunPython(clear_causes_of_non_complaints, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="interaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind", "complaint"), ("root_cause__isnull", True), _connector="OR"
                ),
                name="interaction_root_cause_only_on_complaints",
                violation_error_message="Only a complaint has a root cause.",
            ),
        ),
    ]
