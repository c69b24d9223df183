"""Forms of the settings pages: connecting Salesforce and a member's Salesforce user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from crm.member_links import slack_user_id_clean
from crm.models import CrmUser

AUTOMATIC = "auto"
NOT_IN_SALESFORCE = "none"


class ConnectForm(forms.Form):
    environment = forms.ChoiceField(
        choices=[("production", "Production"), ("sandbox", "Sandbox")],
        initial="production",
        widget=forms.RadioSelect,
        help_text="Sandbox orgs log in at test.salesforce.com.",
    )


class DisconnectForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Stop syncing and forget the tokens",
        error_messages={"required": "Tick the box to confirm disconnecting."},
    )


class MemberSettingsForm(forms.Form):
    """One member's row on Settings → Members."""

    salesforce_user = forms.ChoiceField(label="Salesforce user")
    slack_user_id = forms.CharField(
        label="Slack member ID", required=False, max_length=32, strip=True
    )

    def __init__(
        self, *args: Any, crm_users: Sequence[CrmUser], html_form_id: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if html_form_id:
            # The inputs sit in table cells apart from their <form>: `form=` ties them to it.
            for field in self.fields.values():
                field.widget.attrs["form"] = html_form_id
        self.fields["slack_user_id"].widget.attrs["placeholder"] = "U0123ABCD"
        self._users = {str(u.pk): u for u in crm_users}
        choice = self.fields["salesforce_user"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [
            (AUTOMATIC, "Match by email"),
            (NOT_IN_SALESFORCE, "Not in Salesforce"),
            *((key, _label(u)) for key, u in self._users.items()),
        ]

    def clean_slack_user_id(self) -> str:
        return slack_user_id_clean(self.cleaned_data.get("slack_user_id") or "")

    def chosen_user(self) -> CrmUser | None:
        return self._users.get(self.cleaned_data["salesforce_user"])

    def is_automatic(self) -> bool:
        return bool(self.cleaned_data["salesforce_user"] == AUTOMATIC)


def _label(user: CrmUser) -> str:
    if user.name and user.email:
        return f"{user.name} ({user.email})"
    return user.name or user.email or user.remote_id


def member_initial(
    *, crm_user: CrmUser | None, is_manual: bool, slack_user_id: str
) -> dict[str, str]:
    """The row's select: automatic unless a person chose; then that user or nobody."""
    choice = str(crm_user.pk) if crm_user else NOT_IN_SALESFORCE
    if not is_manual:
        choice = AUTOMATIC
    return {"salesforce_user": choice, "slack_user_id": slack_user_id}
