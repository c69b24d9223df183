"""Browsing: the Visitors and Companies lists (keyset-paginated, filtered through the segment
engine) and their detail pages."""
