"""Plugin discovery, registration, isolation and ranking.

Discovery is stevedore over the ``gantry.plugins`` entry-point group (stevedore keeps an on-disk
cache of entry points, so start-up does not rescan every installed distribution). Each plugin is
registered into the kernel's own pluggy PluginManager, asked to describe itself, and ranked.
A plugin that fails at any step is recorded with its error and left out; the others go on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import pluggy

from gantry.descriptors import DESCRIPTOR_HOOKS, Descriptor, Setting
from gantry.errors import PluginError
from gantry.hookspecs import API_VERSION

ENTRY_POINT_GROUP = "gantry.plugins"
LOADED, FAILED, DISABLED = "loaded", "failed", "disabled"


@attrs.define
class PluginRecord:
    """One plugin as the kernel sees it: where it came from, its state and what it offers."""

    name: str
    target: str
    """The entry point's ``module:attr`` value, or a description for in-process plugins."""
    status: str = LOADED
    error: str | None = None
    disabled_by: str | None = None
    api_version: str | None = None
    plugin: Any = None
    descriptors: tuple[Descriptor, ...] = ()
    settings: dict[str, Setting] = attrs.field(factory=dict)
    distribution: str | None = None
    version: str | None = None

    def fail(self, message: str) -> None:
        self.status, self.error, self.descriptors, self.settings = FAILED, message, (), {}


@attrs.frozen
class Offer:
    """One ranked capability: ``descriptor`` offers ``key`` in ``family`` through ``role``."""

    family: str
    key: str
    role: str
    descriptor: Descriptor
    plugin: str
    priority: int
    pinned: bool = False

    @property
    def provider(self) -> str:
        return self.descriptor.name

    @property
    def ref(self) -> str:
        return str(getattr(self.descriptor, self.role))


def rank(offers: Iterable[Offer]) -> list[Offer]:
    """Pinned first, then highest priority, then provider name: deterministic."""
    return sorted(offers, key=lambda o: (not o.pinned, -o.priority, o.provider, o.plugin))


def parse_api_version(value: Any) -> tuple[int, int]:
    text = str(value).strip()
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        raise ValueError(f"GANTRY_API_VERSION must look like '1.0', got {value!r}")
    return int(major), int(minor or 0)


def check_api_version(plugin: Any) -> str:
    """Return the declared API version, or raise PluginError when this kernel cannot serve it."""
    declared = getattr(plugin, "GANTRY_API_VERSION", "1.0")
    try:
        major, minor = parse_api_version(declared)
    except ValueError as err:
        raise PluginError(str(err)) from None
    kernel = f"{API_VERSION[0]}.{API_VERSION[1]}"
    if major != API_VERSION[0]:
        raise PluginError(
            f"targets Gantry plugin API {major}.{minor} but this gantry-kernel provides API {kernel}; "
            f"install a version of the plugin built for API {API_VERSION[0]}.x"
        )
    if minor > API_VERSION[1]:
        raise PluginError(
            f"targets Gantry plugin API {major}.{minor} but this gantry-kernel provides only API {kernel}; "
            "upgrade gantry-kernel"
        )
    return f"{major}.{minor}"


def load_entry_points(
    group: str, is_enabled: Callable[[str], bool]
) -> tuple[list[Any], dict[str, Any], dict[str, BaseException]]:
    """Import every enabled plugin of ``group`` with stevedore.

    Returns (all entry points, loaded plugin objects by name, import errors by name). Disabled
    plugins are never imported: a broken plugin can be switched off by configuration.
    """
    import stevedore

    failures: dict[str, BaseException] = {}

    class _Loader(stevedore.ExtensionManager):  # type: ignore[type-arg]
        def _load_one_plugin(self, ep: Any, *args: Any) -> Any:
            # Same hook stevedore's NamedExtensionManager uses to skip names before import.
            return super()._load_one_plugin(ep, *args) if is_enabled(ep.name) else None

    def on_failure(manager: Any, ep: Any, err: BaseException) -> None:
        failures[ep.name] = err

    loader = _Loader(group, on_load_failure_callback=on_failure)
    loaded: dict[str, Any] = {}
    for ext in loader.extensions:
        if ext.name in loaded:
            failures.setdefault(ext.name, PluginError(f"entry-point name {ext.name!r} is installed twice"))
            continue
        loaded[ext.name] = ext.plugin
    return list(loader.list_entry_points()), loaded, failures


def distributions_of(group: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(entry-point name, value) -> (distribution name, version), for reports only.

    This scans installed distributions (stevedore's cache does not keep them), so only
    ``gantry plugins`` and other reports pay for it.
    """
    from importlib.metadata import entry_points

    result: dict[tuple[str, str], tuple[str, str]] = {}
    for ep in entry_points(group=group):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            result.setdefault((ep.name, ep.value), (dist.metadata["Name"], dist.version))
    return result


def register(pm: pluggy.PluginManager, record: PluginRecord) -> None:
    """Register ``record.plugin`` and collect its descriptors; on any error, mark it failed."""
    try:
        record.api_version = check_api_version(record.plugin)
        pm.register(record.plugin, name=record.name)
    except (PluginError, pluggy.PluginValidationError, ValueError) as err:
        record.fail(_explain(err))
        return
    try:
        _check_known_hooks(pm, record)
        record.descriptors = tuple(_describe(pm, record))
        record.settings = {s.name: s for s in _call_own(pm, record, "gantry_settings", Setting)}
    except Exception as err:  # a plugin's own code raised: isolate it
        pm.unregister(record.plugin)
        record.fail(_explain(err))


def _check_known_hooks(pm: pluggy.PluginManager, record: PluginRecord) -> None:
    for caller in pm.get_hookcallers(record.plugin) or ():
        if not caller.has_spec():
            raise PluginError(
                f"implements {caller.name}, which is not a hook of Gantry plugin API "
                f"{API_VERSION[0]}.{API_VERSION[1]} (misspelt, or written for a newer kernel)"
            )


def _describe(pm: pluggy.PluginManager, record: PluginRecord) -> Iterable[Descriptor]:
    for hook_name, cls in DESCRIPTOR_HOOKS.items():
        yield from _call_own(pm, record, hook_name, cls)


def _call_own(pm: pluggy.PluginManager, record: PluginRecord, hook_name: str, cls: type) -> list[Any]:
    """Call only this plugin's implementation of a describing hook and check what it returns."""
    results: list[Any] = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin is not record.plugin:
            continue
        try:
            returned = impl.function()
        except Exception as err:
            raise PluginError(f"raised while describing itself in {hook_name}: {_explain(err)}") from err
        if returned is None:
            continue
        if isinstance(returned, (str, bytes)) or not isinstance(returned, Iterable):
            raise PluginError(f"{hook_name} must return a list of {cls.__name__}, got {type(returned).__name__}")
        for item in returned:
            if not isinstance(item, cls):
                raise PluginError(f"{hook_name} must return {cls.__name__} objects, got {item!r}")
            results.append(item)
    return results


def _explain(err: BaseException) -> str:
    text = str(err).strip()
    if isinstance(err, PluginError):
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def resolve_ref(ref: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, _, attr_path = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            obj = getattr(obj, part)
    except Exception as err:
        raise PluginError(f"cannot load provider {ref!r}: {_explain(err)}") from err
    return obj


def offers_of(records: Iterable[PluginRecord], priorities: Mapping[str, int],
              pins: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], list[Offer]]:
    """Build the ranked table (family, key) -> offers, applying site priorities and pins."""
    table: dict[tuple[str, str], list[Offer]] = {}
    for record in records:
        if record.status != LOADED:
            continue
        for descriptor in record.descriptors:
            for family, key, role in descriptor.capabilities():
                table.setdefault((family, key), []).append(Offer(
                    family=family, key=key, role=role, descriptor=descriptor, plugin=record.name,
                    priority=priorities.get(descriptor.name, descriptor.priority),
                    pinned=pins.get((family, key)) == descriptor.name,
                ))
    return {capability: rank(offers) for capability, offers in table.items()}
