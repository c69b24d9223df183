"""Persistence across restarts with `--data`, and the CLI as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from salesforce_emulator.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_TOKEN
from salesforce_emulator.server import serve_in_thread
from salesforce_emulator.testing import create_org, emulator_session


def test_orgs_records_and_tokens_survive_restart(tmp_path: Path) -> None:
    data = str(tmp_path / "emu.sqlite3")
    first = serve_in_thread(data=data)
    org = create_org(first.base_url, name="persisted")
    sf = org.salesforce()
    lead = sf.Lead.create({"LastName": "Kept", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    org.control.seed(size=5, seed=1)
    token = sf.session_id
    first.stop()

    second = serve_in_thread(data=data)
    try:
        from simple_salesforce import Salesforce

        again = Salesforce(
            instance_url=org.instance_url,
            session_id=token,
            session=emulator_session(second.base_url),
        )
        assert again.Lead.get(lead)["LastName"] == "Kept"
        rows = again.query_all(
            "SELECT Id, IsDeleted FROM Lead WHERE Id = '" + gone + "'", include_deleted=True
        )["records"]
        assert rows[0]["IsDeleted"] is True
        new_id = again.Lead.create({"LastName": "After", "Company": "C"})["id"]
        assert new_id not in {lead, gone}
        assert again.query("SELECT COUNT() FROM Account")["totalSize"] == 5
    finally:
        second.stop()


def test_cli_starts_on_free_port_with_demo_org(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salesforce_emulator",
            "--port",
            "0",
            "--seed",
            "demo",
            "--size",
            "20",
            "--data",
            str(tmp_path / "demo.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, "emulator exited: " + "".join(lines)
            lines.append(line)
            if line.startswith("Salesforce emulator listening on "):
                break
        base = line.split(" on ")[1].strip()
        assert any("admin@acme.example" in x for x in lines)
        assert requests.get(base + "/__emulator__/health", timeout=5).json()["orgs"] == 1
        from simple_salesforce import Salesforce

        sf = Salesforce(
            username=DEMO_ADMIN,
            password=DEMO_PASSWORD,
            security_token=DEMO_TOKEN,
            session=emulator_session(base),
        )
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 20
    finally:
        proc.terminate()
        proc.wait(timeout=10)
