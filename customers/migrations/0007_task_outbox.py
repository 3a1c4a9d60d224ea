"""The outbox of import jobs (when the broker took each one), and the beat entry that
sends again, every minute, what the broker never received (customers/outbox.py)."""

from django.db import migrations, models

TASK_NAME = "Outbox: send again queued work the task queue never received"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "customers.outbox_sweep",
            "interval": every_minute,
            "description": "Imports (and other work sent after its transaction commits) "
            "whose task never reached the broker are sent again. Safe to run twice.",
            # A sweep left in the queue past the next one is dropped, not run late.
            "expire_seconds": 55,
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0006_staff_events'),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='send_tried_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importjob',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importjob',
            name='task_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name='importjob',
            index=models.Index(condition=models.Q(('sent_at__isnull', True), ('status', 'pending')), fields=['created_at'], name='importjob_unsent'),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
