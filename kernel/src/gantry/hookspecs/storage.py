"""Storage backends: the index, audit trail and plugin tables, chosen by URL scheme."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    from gantry.descriptors import InstanceStore, StorageBackend


@hookspec
def gantry_storage_backends() -> list[StorageBackend]:
    """Return the :class:`~gantry.StorageBackend` descriptors this plugin provides.

    Ranking: *exactly one active backend per URL scheme* (``sqlite``, ``postgresql`` ...). The
    highest priority wins and the others stay inactive; there is never a fallback to another
    backend, because writing an index somewhere else than asked would split the site's data.
    ``open(url, settings) -> backend``; failures are :class:`~gantry.StorageError`.
    """


@hookspec
def gantry_instance_stores() -> list[InstanceStore]:
    """Return the :class:`~gantry.InstanceStore` descriptors this plugin provides.

    Ranking: exactly one active store per URL scheme (``file`` ...), no fallback, for the same
    reason as backends. ``open(url, settings) -> store``; failures are :class:`~gantry.StorageError`.
    """
