"""Seed the defection-reason taxonomy and the nightly schedule (admins edit both later)."""

from django.conf import settings
from django.db import migrations

REASONS = [
    ("price", "Price", "Found it too expensive or got a better price elsewhere."),
    ("service", "Service", "Unhappy with support, responsiveness or the account manager."),
    ("product_quality", "Product quality", "The product did not work or did not last."),
    ("competitor", "Competitor", "Won over by a competitor's offer or product."),
    ("moved", "Moved", "Moved away or out of our service area."),
    ("no_longer_needs", "No longer needs", "The need is gone."),
    ("other", "Other", "Anything else; say what in the exit-interview notes."),
]

TASK_NAME = "Nightly retention analytics and at-risk flags"


def seed(apps, schema_editor):
    DefectionReason = apps.get_model("relationships", "DefectionReason")
    for position, (code, name, description) in enumerate(REASONS, start=1):
        DefectionReason.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "position": position * 10}
        )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "relationships.tasks.nightly_run",
            "crontab": crontab,
            "description": "Recompute customer metrics, model fits, risk flags and retention.",
            # A run missed by more than 20 hours is not worth starting late: the next one comes.
            "expire_seconds": 20 * 3600,
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0002_analytics"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
