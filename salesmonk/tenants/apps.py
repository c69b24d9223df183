from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "salesmonk.tenants"
    label = "tenants"
    verbose_name = "Tenants and users"
    default_auto_field = "django.db.models.BigAutoField"
