import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)


class VisitorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visitors"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django_q.signals import post_spawn

        from crm.signals import crm_mirror_changed

        crm_mirror_changed.connect(_crm_mirror_changed, dispatch_uid="visitors.crm_match")
        post_migrate.connect(_schedules_reconcile, sender=self, dispatch_uid="visitors")
        post_spawn.connect(_schedules_reconcile, dispatch_uid="visitors.cluster")


def _schedules_reconcile(sender: Any, **kwargs: Any) -> None:
    """After `migrate` and when a job cluster's worker starts, the Slack alerts schedule
    exists: no command to type."""
    from django.db import DatabaseError

    from visitors.alerts.schedules import alerts_schedule_ensure

    try:
        alerts_schedule_ensure()
    except DatabaseError:  # a partial migrate: the job tables are not there yet
        log.warning("Alerts schedule not ensured: the database is not fully migrated.")


def _crm_mirror_changed(sender: Any, *, tenant_id: Any, **kwargs: Any) -> None:
    """The mirror changed: the visitors' stored CRM match is refreshed in the background."""
    from visitors.tracking.tasks import crm_match_refresh_enqueue

    crm_match_refresh_enqueue(tenant_id)
