"""The emulator's fixtures (`sf_emulator`, `sf_org`).

Imported rather than listed in `pytest_plugins`, which pytest only allows in the root
conftest; a root conftest may instead declare `pytest_plugins = ["salesforce_emulator.testing"]`.
"""

from salesforce_emulator.testing import sf_emulator, sf_org  # noqa: F401
