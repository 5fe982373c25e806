"""Reversible pseudonymisation for Gantry (PS3.15 E.1.2): the ``encrypt-originals`` instance step
and its inverse.

``recover_dataset(dataset, certificate, private_key)`` puts the original attributes back into a
copy of a de-identified dataset; ``make_site_key(KeyPaths(...))`` makes a key and certificate.
Names load on first use: the entry module ``gantry_pseudonym.plugin`` sits in this package, and
describing the plugin must not import cryptography or pydicom.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"PseudonymError": "errors", "KeyPaths": "keys", "make_site_key": "keys",
          "recover_dataset": "recover"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'gantry_pseudonym' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gantry_pseudonym.{_HOMES[name]}"), name)
