"""The emulator's fixtures (`sf_emulator`, `sf_org`) come from `salesforce_emulator.testing`,
registered by the root conftest's `pytest_plugins` (pytest only honours that list there)."""
