from __future__ import annotations

from django import forms
from django.http import HttpRequest

from salesmonk.tenants.models import Role, User


class SignupForm(forms.Form):
    """Extra signup fields; allauth mixes them into its own signup form."""

    company_name = forms.CharField(
        max_length=200,
        label="Company name",
        widget=forms.TextInput(attrs={"placeholder": "Acme Inc", "autocomplete": "organization"}),
    )

    field_order = ["company_name", "email", "password1", "password2"]

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not name:
            raise forms.ValidationError("A company name is required.")
        return name

    def signup(self, request: HttpRequest, user: User) -> None:
        """The workspace itself is created by the account adapter, in the user's transaction."""


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
