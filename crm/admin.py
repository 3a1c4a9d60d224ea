"""Admin pages of third-party apps, adjusted for the site's Content-Security-Policy."""

from typing import Any

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from crm.csp import allow_inline_script


class NightlyScheduleAdmin(PeriodicTaskAdmin):
    """django-celery-beat's periodic task form (where an admin moves the nightly run) has an
    inline script that translates the crontab; it is allowed by its hash."""

    def render_change_form(self, request: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().render_change_form(request, context, *args, **kwargs)
        allow_inline_script(response, "periodic-task-overrides")
        return response


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, NightlyScheduleAdmin)
