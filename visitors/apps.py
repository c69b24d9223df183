from typing import Any

from django.apps import AppConfig


class VisitorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visitors"

    def ready(self) -> None:
        from crm.signals import crm_mirror_changed

        crm_mirror_changed.connect(_crm_mirror_changed, dispatch_uid="visitors.crm_match")


def _crm_mirror_changed(sender: Any, *, tenant_id: Any, **kwargs: Any) -> None:
    """The mirror changed: the visitors' stored CRM match is refreshed in the background."""
    from visitors.tasks import crm_match_refresh_enqueue

    crm_match_refresh_enqueue(tenant_id)
