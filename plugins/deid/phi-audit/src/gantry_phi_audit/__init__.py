"""gantry-phi-audit: the privacy audit of DICOM headers.

    from gantry_phi_audit import audit_dataset
    findings = audit_dataset(dataset)            # list[gantry.storage.Finding]

Importing this package is cheap: the rules, the attribute lists and pydicom load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gantry_phi_audit.audit import audit_dataset
    from gantry_phi_audit.context import AuditContext
    from gantry_phi_audit.rules import DEFAULT_RULES, RULES
    from gantry_phi_audit.settings import AuditSettings

_LAZY = {"audit_dataset": "gantry_phi_audit.audit", "AuditContext": "gantry_phi_audit.context",
         "AuditSettings": "gantry_phi_audit.settings", "RULES": "gantry_phi_audit.rules",
         "DEFAULT_RULES": "gantry_phi_audit.rules"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gantry_phi_audit' has no attribute {name!r}")


__all__ = ["DEFAULT_RULES", "RULES", "AuditContext", "AuditSettings", "audit_dataset"]
