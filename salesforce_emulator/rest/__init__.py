"""Salesforce's REST API under `/services/data/vNN.N/`."""
