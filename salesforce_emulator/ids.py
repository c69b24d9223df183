"""Salesforce record Ids: key prefixes, the 18-character case-safe form, deterministic minting.

The emulator only ever returns 18-character Ids and accepts 15 or 18 everywhere, as a real
org does; a wrong checksum or alphabet is `MALFORMED_ID`.
"""

from __future__ import annotations

import re
import threading

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Note": "002",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "Group": "00G",
    "OpportunityContactRole": "00K",
    "Organization": "00D",
    "Profile": "00e",
    "RecordType": "012",
    "OpportunityStage": "01J",
    "LeadStatus": "01J",
    "QueryLocator": "01g",
}
# LeadStatus and OpportunityStage share 01J in real orgs (both are picklist-value entities).

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The 3-character suffix: one char per 5-char chunk, bit i set when char i is uppercase."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def to18(record_id: str) -> str | None:
    """Normalise a 15- or 18-character Id to 18 characters; None when it is not an Id."""
    if not isinstance(record_id, str) or not _ID_RE.match(record_id):
        return None
    id15 = record_id[:15]
    expected = checksum(id15)
    if len(record_id) == 18 and record_id[15:].upper() != expected:
        return None
    return id15 + expected


def base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_ALPHABET[r])
    if n:
        raise OverflowError("counter too large for width")
    return "".join(reversed(chars))


def unbase62(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 62 + _ALPHABET.index(ch)
    return n


class IdFactory:
    """Mints Ids `<prefix><org:2>0<counter:9><checksum>` so two orgs never share an Id and
    a reloaded org continues where it stopped (the counter is shared by all prefixes)."""

    def __init__(self, org_number: int, start: int = 0) -> None:
        self.org_code = base62(org_number, 2)
        self._counter = start
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            n = self._counter
        id15 = f"{prefix}{self.org_code}0{base62(n, 9)}"
        return id15 + checksum(id15)

    def bulk(self, prefix: str, count: int) -> list[str]:
        """Mint many Ids at once (the generator inserts 100k rows in seconds)."""
        with self._lock:
            start = self._counter
            self._counter += count
        head = f"{prefix}{self.org_code}0"
        out = []
        for n in range(start + 1, start + count + 1):
            id15 = head + base62(n, 9)
            out.append(id15 + checksum(id15))
        return out

    def observe(self, record_id: str) -> None:
        """Advance the counter past an Id loaded from disk or seeded raw."""
        if len(record_id) >= 15 and record_id[3:5] == self.org_code:
            try:
                n = unbase62(record_id[6:15])
            except ValueError:
                return
            with self._lock:
                self._counter = max(self._counter, n)

    @property
    def counter(self) -> int:
        return self._counter
