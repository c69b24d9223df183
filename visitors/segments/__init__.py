"""Segments: saved filters over visitors and companies (the filter engine used by every list)
and the tenant's current-customer rule."""
