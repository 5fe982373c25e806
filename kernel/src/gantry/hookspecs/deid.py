"""De-identification: named actions and named profiles (rule sets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    from gantry.descriptors import DeidAction, DeidProfile


@hookspec
def gantry_deid_actions() -> list[DeidAction]:
    """Return the :class:`~gantry.DeidAction` descriptors this plugin provides.

    Ranking: *one active provider per action code* (``X``, ``Z``, ``D``, ``K``, ``C``, ``U``,
    ``shift``, ``remap``, ``redact`` ...). No fallback: an action that fails fails the instance,
    which is quarantined with the reason (:class:`~gantry.DeidError`); de-identifying "a bit
    differently" behind the site's back is not acceptable.
    """


@hookspec
def gantry_deid_profiles() -> list[DeidProfile]:
    """Return the :class:`~gantry.DeidProfile` descriptors this plugin provides.

    Ranking: *one active provider per profile name* (``basic``, ``retain-uids``, a site preset
    ...). ``rules()`` returns the profile's rule table, resolved by the de-identification runner.
    """
