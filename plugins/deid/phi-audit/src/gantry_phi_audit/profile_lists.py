"""The audit's own PS3.15 lists, derived by ``scripts/derive_profile_lists.py`` (see its
docstring and the ``provenance`` block of each file in ``data/``)."""

from __future__ import annotations

import functools
import json
from importlib import resources

import attrs

#: A private attribute as Table E.3.10-1 names it: (group, private creator, element byte).
PrivateKey = tuple[int, str, int]


@attrs.frozen
class ListedAttribute:
    """A Table E.1-1 attribute whose value the Basic Profile removes or replaces by a dummy."""

    name: str
    action: str
    """The Basic Profile's action code: X, Z, D or a combination of them."""
    kept_by: frozenset[str]
    """Options under which the attribute is kept as it was (K)."""
    cleaned_by: frozenset[str]
    """Options under which the attribute keeps a cleaned value (C)."""


def _load(name: str) -> list[dict[str, object]]:
    text = resources.files("gantry_phi_audit").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)["attributes"]  # type: ignore[no-any-return]


def _tag(text: str) -> int:
    return int(text[1:5] + text[6:10], 16)


@functools.cache
def basic_profile_attributes() -> dict[int, ListedAttribute]:
    """Tag -> attribute, for every single-tag row the Basic Profile removes or blanks."""
    listed = {}
    for row in _load("basic_profile_attributes.json"):
        options: dict[str, str] = row["options"]  # type: ignore[assignment]
        listed[_tag(str(row["tag"]))] = ListedAttribute(
            name=str(row["name"]), action=str(row["action"]),
            kept_by=frozenset(name for name, code in options.items() if code == "K"),
            cleaned_by=frozenset(name for name, code in options.items() if code == "C"))
    return listed


@functools.cache
def attributes_in_force(options: frozenset[str]) -> dict[int, ListedAttribute]:
    """The listed attributes that must be empty, removed or dummy under ``options``."""
    return {tag: entry for tag, entry in basic_profile_attributes().items()
            if not (entry.kept_by | entry.cleaned_by) & options}


@functools.cache
def kept_as_is(options: frozenset[str]) -> frozenset[int]:
    """Tags an option in force keeps unchanged: the site chose to keep these values, so the
    content rules (dates, identifiers in text) leave them alone. Cleaned (C) values are still
    scanned: cleaning is exactly what the audit verifies."""
    return frozenset(tag for tag, entry in basic_profile_attributes().items() if entry.kept_by & options)


@functools.cache
def safe_private_attributes() -> frozenset[PrivateKey]:
    """Table E.3.10-1: what the Retain Safe Private Option may keep."""
    return frozenset((int(str(row["group"]), 16), str(row["creator"]), int(str(row["element"]), 16))
                     for row in _load("safe_private_attributes.json"))
