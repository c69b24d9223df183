"""Which link of the owner chain chose each visitor's stored `crm_owner`.

Existing rows get "" until their match is refreshed: run `manage.py visitor_crm_match
--tenant <slug>` once per tenant after migrating (the owner itself may change too, since the
account owner now comes before the contact or lead owner)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("visitors", "0009_device_session_fillfactor"),
    ]

    operations = [
        migrations.AddField(
            model_name="visitor",
            name="crm_owner_rule",
            field=models.CharField(
                blank=True,
                choices=[
                    ("account_owner", "account owner"),
                    ("contact_owner", "contact owner"),
                    ("lead_owner", "lead owner"),
                    ("default_lead_owner", "default lead owner"),
                    ("installer", "installer"),
                ],
                db_default="",
                default="",
                max_length=20,
            ),
        ),
    ]
