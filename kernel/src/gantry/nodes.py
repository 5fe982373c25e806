"""Named remote nodes and URL options, as every transport's configuration spells them.

    [[dimse.nodes]]                      # or [[dicomweb.nodes]], [[orthanc.nodes]] ...
    name = "pacs"
    url = "dicom://PACS@pacs.example:104"

A section's ``nodes`` is a list of tables (the kernel's setting types have ``list`` but no
``dict``); :func:`named_nodes` checks each entry is a table with a valid ``name`` and parses it
with the transport's own function, naming the entry in every error. :func:`positive_seconds`
reads a timeout from a URL's query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def is_node_name(text: str) -> bool:
    return bool(NODE_NAME.match(text))


def named_nodes(entries: Iterable[Any], section: str, parse: Callable[[Mapping[str, Any], str], T]) -> dict[str, T]:
    """``name -> parse(entry, name)`` for each table of ``section``'s ``nodes``; a ValueError
    says which entry is wrong and why."""
    nodes: dict[str, T] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{section}.nodes entry {number} must be a table, got {type(entry).__name__}")
        name = entry.get("name")
        where = f"{section}.nodes entry {number}" + (f" ({name!r})" if isinstance(name, str) else "")
        try:
            if not isinstance(name, str) or not is_node_name(name):
                raise ValueError(f"name must be letters, digits, '.', '_' or '-', got {name!r}")
            nodes[name] = parse(entry, name)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where}: {err}") from None
    return nodes


def positive_seconds(text: str, key: str) -> float:
    """``key=text`` from a URL's query as a positive, finite number of seconds (else ValueError)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{key}={text!r} must be a positive number of seconds")
    return value
