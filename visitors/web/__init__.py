"""Customer pages of the visitors app: browsing visitors and companies, segments, alerts."""
