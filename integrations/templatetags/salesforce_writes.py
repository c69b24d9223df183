"""What SalesMonk writes to Salesforce for a visitor, for the visitor page and its admin.

`visitors` must not import `integrations`, so its views never build this. Instead the
include `integrations/_visitor_writes.html` asks for it with
`{% visitor_write_explanation_for visitor tenant as writes %}`: the read runs only on
pages that render the block, for the visitor the view already loaded, with no second
lookup from the URL and no registry to wire up at start-up.
"""

from __future__ import annotations

from django import template

from integrations.write.selectors import VisitorWrites, visitor_write_explanation
from salesmonk.tenants.models import Tenant
from visitors.models import Visitor

register = template.Library()


@register.simple_tag
def visitor_write_explanation_for(visitor: Visitor, tenant: Tenant | None) -> VisitorWrites | None:
    """None unless the visitor belongs to `tenant` (the workspace the page is for)."""
    if tenant is None or visitor is None or visitor.tenant_id != tenant.pk:
        return None
    return visitor_write_explanation(tenant=tenant, visitor=visitor)
