"""Support's forms for write settings and field mappings. Each validates in `clean` with
the service's own check, so a refusal is a form error shown beside the input it concerns
(the input kept) and nothing is saved; the services check again when they write."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from crm.models import CrmUser
from integrations.write.fieldmaps import ATTRIBUTES, FieldMappingError, field_mapping_validate
from integrations.write.models import FieldMapping, WriteSettings
from integrations.write.policy import write_settings_check
from integrations.write.selectors import salesforce_users_active

INSTALLER_CHOICE = "— the Salesforce user who connected —"


class WriteSettingsForm(forms.ModelForm):
    """The default lead owner is chosen by name among the tenant's active Salesforce users."""

    # A text field with a select widget: any posted id reaches `clean`, which asks the
    # service, so an inactive user is refused with the service's own words.
    default_lead_owner_remote_id = forms.CharField(
        label="Default lead owner",
        required=False,
        max_length=18,
        widget=forms.Select,
        help_text="Owns the Leads we create when no account owner applies "
        "(active Salesforce users of this workspace, as last synced).",
    )

    class Meta:
        model = WriteSettings
        fields = ["default_lead_owner_remote_id", "lead_source"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant = self.instance.tenant
        choices = [("", INSTALLER_CHOICE), *salesforce_users_active(tenant=tenant)]
        current = self["default_lead_owner_remote_id"].value() or ""
        if current and current not in dict(choices):
            # Keep what is saved or was typed visible, saying why it cannot stay.
            user = CrmUser.objects.for_tenant(tenant).filter(remote_id=current).first()
            label = f"{user.name or user.email} <{user.email}>" if user else current
            choices.append((current, f"{label} (not an active Salesforce user)"))
        self.fields["default_lead_owner_remote_id"].widget.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner = data.get("default_lead_owner_remote_id") or ""
        try:
            write_settings_check(tenant=self.instance.tenant, default_lead_owner_remote_id=owner)
        except ValueError as exc:
            self.add_error("default_lead_owner_remote_id", str(exc))
        return data


class FieldMappingForm(forms.ModelForm):
    """The Salesforce field is chosen among the writable fields of the object's describe;
    without a describe (Salesforce unreachable, or the tenant and object not chosen yet) it
    is a text input with a note saying why."""

    attribute = forms.ChoiceField(choices=[(a, a) for a in ATTRIBUTES])
    sf_field = forms.CharField(label="Salesforce field", max_length=80)
    # Set per request by the admin, which fetched the describe outside any transaction.
    describe: ClassVar[dict[str, Any] | None] = None
    describe_note: ClassVar[str] = ""

    class Meta:
        model = FieldMapping
        fields = ["tenant", "object_name", "attribute", "sf_field", "rule"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sf_field"]
        if self.describe is None:
            field.help_text = self.describe_note
            return
        writable = sorted(
            (f for f in self.describe["fields"] if f.get("createable") or f.get("updateable")),
            key=lambda f: f["label"].lower(),
        )
        choices = [("", "---------")]
        choices += [(f["name"], f"{f['label']} ({f['name']}, {f['type']})") for f in writable]
        chosen = self["sf_field"].value() or ""
        if chosen and chosen not in dict(choices):
            choices.append((chosen, f"{chosen} (not a writable field)"))
        field.widget = forms.Select(choices=choices)
        field.help_text = f"Writable fields of {self.describe.get('name', 'the object')}."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.describe is None:
            self.add_error(None, self.describe_note or "The Salesforce fields are not known.")
            return data
        if {"object_name", "attribute", "sf_field", "rule"} - set(data):
            return data  # a field error already says what is missing
        try:
            field_mapping_validate(
                object_name=data["object_name"],
                attribute=data["attribute"],
                sf_field=data["sf_field"],
                rule=data["rule"],
                describe=self.describe,
            )
        except FieldMappingError as exc:
            self.add_error("sf_field", str(exc))
        return data
