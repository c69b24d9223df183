from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from salesmonk.tenants.models import User
from salesmonk.tenants.services import tenant_create


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        """Signing up creates the user's workspace and makes them its owner, atomically: a
        user never exists without the tenant they signed up for."""
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            tenant_create(name=form.cleaned_data["company_name"], owner=user)
        return user
