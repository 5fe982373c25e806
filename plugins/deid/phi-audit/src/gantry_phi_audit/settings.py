"""The ``[phi-audit]`` configuration section and what a dummy value is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from gantry import ConfigError
from gantry_phi_audit.rules import DEFAULT_RULES, RULES

#: Values de-identifiers write in place of identifiers (compared upper-case, whole value or
#: whole PN component).
DEFAULT_DUMMY_VALUES = (
    "ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANON", "DEIDENTIFIED", "DE-IDENTIFIED", "REMOVED",
    "REDACTED", "UNKNOWN", "NONE", "N/A", "NA", "NULL", "DUMMY", "X", "XX", "XXX", "XXXX",
    "19000101", "URN:ANONYMOUS",
)
DEFAULT_RISKY_MODALITIES = ("US", "SC", "XA", "ES", "DX", "OT")

# Zeros are what de-identifiers write into numbers, times and ages: "0", "0.000", "000000.00",
# "000Y".
_ZERO = re.compile(r"[-+]?0+(?:\.0*)?[DWMY]?")
# The dummy date with zeros behind it, as DA or DT: "19000101", "19000101000000.000000+0000".
_DUMMY_DATE = re.compile(r"(?:19000101|00010101)(?:0+(?:\.0*)?)?(?:[-+]\d{4})?")
_PN_SEPARATORS = re.compile(r"[\^=]")


@attrs.frozen(kw_only=True)
class AuditSettings:
    dummy_values: frozenset[str] = frozenset(DEFAULT_DUMMY_VALUES)
    dummy_pattern: re.Pattern[str] | None = None
    """A site's own placeholder shape (pseudonyms such as ``SUBJ-\\d{4}``), matched whole."""
    rules: frozenset[str] = DEFAULT_RULES
    risky_modalities: frozenset[str] = frozenset(DEFAULT_RISKY_MODALITIES)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> AuditSettings:
        """Build from a ``[phi-audit]`` section; ConfigError names a bad key or value."""
        defaults = cls()
        values = {str(value).strip().upper() for value in section.get("dummy_values") or ()}
        extra = {str(value).strip().upper() for value in section.get("extra_dummy_values") or ()}
        pattern = str(section.get("dummy_pattern") or "")
        try:
            compiled = re.compile(pattern, re.IGNORECASE) if pattern else None
        except re.error as err:
            raise ConfigError(f"phi-audit.dummy_pattern is not a regular expression: {err}") from None
        rules = section.get("rules")
        modalities = section.get("risky_modalities")
        return cls(
            dummy_values=(values or defaults.dummy_values) | extra,
            dummy_pattern=compiled,
            rules=checked_rules(rules) if rules is not None else defaults.rules,
            risky_modalities=(frozenset(str(m).upper() for m in modalities) if modalities is not None
                              else defaults.risky_modalities),
        )

    def is_dummy(self, text: str, vr: str = "") -> bool:
        """Whether ``text`` carries no information: empty, a known dummy, zeros, the dummy date,
        a 2.25 UID, the site's pattern; for a PN, every component so."""
        text = text.strip()
        if not text or text.upper() in self.dummy_values or _ZERO.fullmatch(text):
            return True
        if vr == "PN" or "^" in text:
            parts = [part for part in _PN_SEPARATORS.split(text) if part.strip()]
            return all(self.is_dummy(part) for part in parts)
        if _DUMMY_DATE.fullmatch(text) or text.startswith("2.25."):
            return True
        return self.dummy_pattern is not None and self.dummy_pattern.fullmatch(text) is not None


def checked_rules(names: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(names)
    unknown = sorted(chosen - set(RULES))
    if unknown:
        raise ConfigError(f"unknown phi-audit rule(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(RULES))}")
    return chosen


DEFAULT_SETTINGS = AuditSettings()
