import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django_q.signals import post_spawn

        from visitors.signals import write_intents_recorded

        post_migrate.connect(_schedules_reconcile, sender=self, dispatch_uid="integrations")
        post_spawn.connect(_schedules_reconcile, dispatch_uid="integrations.cluster")
        write_intents_recorded.connect(_intents_recorded, dispatch_uid="integrations.drain")

        # Pages in `visitors` say whom a Lead SalesMonk creates would be owned by; the
        # default lead owner and installer are ours, so we hand `crm` the way to read them.
        from crm.owners import fallback_owner_ids_provide
        from integrations.write.selectors import fallback_owner_ids

        fallback_owner_ids_provide(fallback_owner_ids)


def _schedules_reconcile(sender: Any, **kwargs: Any) -> None:
    """After `migrate` and when a job cluster's worker starts: the schedules are in place
    with no command typed by hand (a deploy runs migrate; a cluster start is the other
    moment schedules matter)."""
    from django.db import DatabaseError

    from integrations.schedules import reconcile

    try:
        reconcile()
    except DatabaseError:  # a partial migrate: the job tables are not there yet
        log.warning("Schedules not reconciled: the database is not fully migrated.")


def _intents_recorded(sender: Any, *, tenant_id: Any, **kwargs: Any) -> None:
    """Visitor tracking recorded write intents: drain them within seconds."""
    from integrations.tasks import write_sync_soon

    write_sync_soon(tenant_id)
