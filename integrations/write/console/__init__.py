"""Support's console for the write-back, in the Django admin: write settings and field
maps (`configure`), runs, dry runs, the write log and created records (`audit`, `dry_run`),
and the bulk name loading and links they share (`names`)."""
