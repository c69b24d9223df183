from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        # Pages in `visitors` say whom a Lead SalesMonk creates would be owned by; the
        # default lead owner and installer are ours, so we hand `crm` the way to read them.
        from crm.owners import fallback_owner_ids_provide
        from integrations.write.selectors import fallback_owner_ids

        fallback_owner_ids_provide(fallback_owner_ids)
