"""The mirrored CRM records, in the unified (Merge-style) model."""
