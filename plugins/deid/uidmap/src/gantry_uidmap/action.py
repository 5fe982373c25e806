"""The U action: every UID value of a UI element replaced, consistently across instances.

Consistency is what makes the output usable: a Referenced SOP Instance UID in one file must still
point at the SOP Instance UID of another. The mapping is a pure function of (secret, namespace,
UID), so it holds across files, runs and machines without coordination; a mapping already in the
storage backend (an earlier run, or one a site imported) wins over the computed one.
"""

from __future__ import annotations

import re
from typing import Any

from pydicom.uid import UID_dictionary

from gantry import DeidError
from gantry.deid import DeidContext
from gantry_uidmap.remap import UID_PADDING, remap_uid

SECTION = "uidmap"
VALID_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
MAX_UID_LENGTH = 64


def is_well_known(uid: str) -> bool:
    """A UID the standard defines (SOP class, transfer syntax, coding scheme, well-known frame
    of reference ...): it identifies a kind of thing, not a patient, and must stay as it is."""
    return uid in UID_dictionary


def apply(dataset: Any, element: Any, context: DeidContext) -> None:
    """Replace each value of the UI ``element`` in place; record every pair in the context."""
    where = _describe(element)
    if element is None or element.VR != "UI":
        raise DeidError(f"the U action replaces UIDs, but {where} has VR "
                        f"{getattr(element, 'VR', None)!r}, not UI")
    if not context.secret:
        raise DeidError(f"the U action needs the site secret to replace {where}; none was given")
    values = _uid_values(element.value)
    to_replace = list(dict.fromkeys(v for v in values if v and not is_well_known(v)))
    if not to_replace:
        return  # empty or only well-known UIDs: nothing identifying to replace
    namespace = str(context.settings.get(SECTION, {}).get("namespace", ""))
    replacements = _earlier_mappings(context, to_replace, namespace, where)
    for original in to_replace:
        if original not in replacements:
            replacements[original] = remap_uid(original, context.secret, namespace)
    context.uid_pairs.update(replacements)
    new_values = [replacements.get(value, value) for value in values]
    element.value = new_values[0] if isinstance(element.value, str) else new_values


def _uid_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip(UID_PADDING)]
    return [str(item).strip(UID_PADDING) for item in value]


def _earlier_mappings(context: DeidContext, originals: list[str], namespace: str,
                      where: str) -> dict[str, str]:
    if context.backend is None:
        return {}
    found = dict(context.backend.uid_map_get(originals, namespace=namespace))
    for replacement in found.values():
        # An imported map is data from outside: writing an invalid UID would break the output.
        if len(replacement) > MAX_UID_LENGTH or not VALID_UID.match(replacement):
            raise DeidError(f"the storage backend's UID map holds an invalid replacement for the "
                            f"UID in {where} (namespace {namespace!r}); fix or remove that mapping")
    return found


def _describe(element: Any) -> str:
    if element is None:
        return "no element (an instance step)"
    keyword = getattr(element, "keyword", "") or "private or unknown attribute"
    return f"{element.tag} {keyword}"
