"""The unified CRM API (`/api/crm/v1/`): the mirror served in Merge's common-model shape."""
