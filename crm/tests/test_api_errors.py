"""Paths under the API that name no endpoint still answer in the API's error shape."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/crm/v1/widgets", "/api/crm/v2/contacts", "/api/"])
def test_unknown_api_paths_answer_json_404(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": f"No API endpoint at {path}."}
