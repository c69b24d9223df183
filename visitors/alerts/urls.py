"""Alerts pages: Slack webhooks, alert rules and the delivery log."""

from django.urls import path

from visitors.alerts import views as alerts

urlpatterns = [
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/log/", alerts.alert_log, name="alert_log"),
    path("alerts/webhooks/new/", alerts.alert_webhook_create, name="alert_webhook_create"),
    path(
        "alerts/webhooks/<uuid:webhook_id>/test/",
        alerts.alert_webhook_test,
        name="alert_webhook_test",
    ),
    path(
        "alerts/webhooks/<uuid:webhook_id>/active/",
        alerts.alert_webhook_active,
        name="alert_webhook_active",
    ),
    path(
        "alerts/webhooks/<uuid:webhook_id>/delete/",
        alerts.alert_webhook_delete,
        name="alert_webhook_delete",
    ),
    path("alerts/rules/new/", alerts.alert_rule_create, name="alert_rule_create"),
    path("alerts/rules/<uuid:rule_id>/", alerts.alert_rule_edit, name="alert_rule_edit"),
    path(
        "alerts/rules/<uuid:rule_id>/delete/",
        alerts.alert_rule_delete,
        name="alert_rule_delete",
    ),
]
