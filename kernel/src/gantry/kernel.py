"""The Kernel: one registry, one plugin manager, one configuration.

There is no module-level plugin manager: a platform can hold two kernels with different plugin
sets in one process, and every test gets its own.

    kernel = Kernel.from_config()               # discover installed plugins, site configuration
    kernel = Kernel(plugins={"mine": module})    # embed: only these plugins, no discovery
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pluggy

from gantry import hookspecs
from gantry.config import Config, load_config, validate_section
from gantry.descriptors import CHAIN_FAMILIES
from gantry.errors import (
    CodecError,
    ConfigError,
    DeidError,
    GantryError,
    NotDicomError,
    PluginError,
    ReaderError,
    StorageError,
    TransportError,
)
from gantry.log import Phi, get_logger
from gantry.sources import describe_source, peek
from gantry.registry import (
    DISABLED,
    ENTRY_POINT_GROUP,
    FAILED,
    LOADED,
    Offer,
    PluginRecord,
    distributions_of,
    load_entry_points,
    offers_of,
    register,
    resolve_ref,
)

log = get_logger(__name__)

#: The error raised when a family's providers are exhausted.
FAMILY_ERRORS: dict[str, type[GantryError]] = {
    "reader": ReaderError,
    "decoder": CodecError,
    "encoder": CodecError,
    "transport": TransportError,
    "dimse-scu": TransportError,
    "dimse-scp": TransportError,
    "deid-action": DeidError,
    "deid-profile": DeidError,
    "storage": StorageError,
    "instance-store": StorageError,
}

SNIFF_BYTES = 256


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    credentials, _, host = authority.rpartition("@")
    user = credentials.split(":", 1)[0]
    shown = f"{user}:***" if ":" in credentials else user
    return f"{scheme}{separator}{shown}@{host}{slash}{path}"


class Kernel:
    """Owns the plugin manager, the plugin records, the ranking table and the configuration."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        plugins: Mapping[str, Any] | None = None,
        discover: bool = True,
        group: str = ENTRY_POINT_GROUP,
    ) -> None:
        self.config = config or Config()
        self.group = group
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        for module in hookspecs.MODULES:
            self.pm.add_hookspecs(module)
        self.records: dict[str, PluginRecord] = {}
        self.warnings: list[str] = []
        self._settings: dict[str, dict[str, Any]] = {}
        self._loaded_refs: dict[str, Any] = {}
        self._distributions: dict[tuple[str, str], tuple[str, str]] | None = None

        if discover:
            self._discover()
        for name, plugin in (plugins or {}).items():
            self._add(PluginRecord(name=name, target=_describe_object(plugin), plugin=plugin))
        self._check_disabled_names()
        self._check_unique_provider_names()
        self._apply_sections()
        self._table = offers_of(self.records.values(), {}, {})
        self._check_ranking_config()
        self._table = offers_of(self.records.values(), self.config.priorities, self.config.pins)
        self._configure_plugins()
        for record in self.records.values():
            if record.status == FAILED:
                log.warning("plugin.failed", plugin=record.name, error=record.error)
        if self.config.strict:
            self.raise_for_failures()

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        strict: bool | None = None,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Kernel:
        """Load the site configuration (``--config``, ``$GANTRY_CONFIG``, ``./gantry.toml``)."""
        config = load_config(path, env=env)
        if strict is not None and strict != config.strict:
            import attrs

            config = attrs.evolve(config, strict=strict)
        return cls(config, **kwargs)

    # -- building ---------------------------------------------------------------------------

    def _discover(self) -> None:
        entry_points, loaded, failures = load_entry_points(self.group, self._is_enabled)
        for ep in sorted(entry_points, key=lambda ep: (ep.name, ep.value)):
            if ep.name in self.records:
                continue  # a name installed twice: its first record already says so (failed)
            record = PluginRecord(name=ep.name, target=ep.value)
            if not self._is_enabled(ep.name):
                record.status, record.disabled_by = DISABLED, self.config.disable[ep.name]
                self.records[ep.name] = record
            elif ep.name in failures:
                error = failures[ep.name]
                record.fail(f"failed to import {ep.value}: {type(error).__name__}: {error}"
                            if not isinstance(error, PluginError) else str(error))
                self.records[ep.name] = record
            else:
                record.plugin = loaded[ep.name]
                self._add(record)

    def _is_enabled(self, name: str) -> bool:
        return name not in self.config.disable

    def _add(self, record: PluginRecord) -> None:
        if record.name in self.records:
            raise PluginError(f"a plugin named {record.name!r} is already registered")
        self.records[record.name] = record
        if not self._is_enabled(record.name):
            record.status, record.disabled_by = DISABLED, self.config.disable[record.name]
            return
        register(self.pm, record)

    def _fail(self, record: PluginRecord, message: str) -> None:
        if record.plugin is not None and self.pm.is_registered(record.plugin):
            self.pm.unregister(record.plugin)
        record.fail(message)

    def _check_disabled_names(self) -> None:
        unknown = sorted(name for name in self.config.disable if name not in self.records)
        if unknown:
            where = ", ".join(sorted({self.config.disable[name] for name in unknown}))
            raise ConfigError(
                f"{where}: unknown plugin(s) {', '.join(unknown)}; installed plugins: "
                f"{', '.join(sorted(self.records)) or 'none'}"
            )

    def _check_unique_provider_names(self) -> None:
        # Names are what sites pin and re-prioritise: two providers of one kind may not share one.
        owners: dict[tuple[str, str], str] = {}
        for record in self.records.values():
            if record.status != LOADED:
                continue
            for descriptor in record.descriptors:
                owner = owners.setdefault((descriptor.kind, descriptor.name), record.name)
                if owner != record.name:
                    self._fail(record, f"provider name {descriptor.name!r} ({descriptor.kind}) is "
                                       f"already provided by plugin {owner!r}")
                    break

    def _apply_sections(self) -> None:
        where = self.config.source or "configuration"
        for name, values in self.config.sections.items():
            if name not in self.records:
                raise ConfigError(
                    f"{where}: unknown section [{name}]: not a kernel section (plugins, log) nor an "
                    f"installed plugin ({', '.join(sorted(self.records)) or 'none installed'})"
                )
        for name, record in self.records.items():
            if record.status == LOADED:
                values = self.config.sections.get(name, {})
                self._settings[name] = validate_section(name, values, record.settings, where)

    def _check_ranking_config(self) -> None:
        where = self.config.source or "configuration"
        known = {offer.provider for offers in self._table.values() for offer in offers}
        failed = sorted(r.name for r in self.records.values() if r.status != LOADED)
        for provider in self.config.priorities:
            if provider not in known:
                self._unknown_provider(f"{where}: plugins.priority names unknown provider {provider!r}",
                                       known, failed)
        for (family, key), provider in self.config.pins.items():
            offers = self._table.get((family, key), [])
            if not any(offer.provider == provider for offer in offers):
                offered = ", ".join(o.provider for o in offers) or "none"
                self._unknown_provider(
                    f"{where}: plugins.pin.{family}.{key} = {provider!r}, but that provider does not "
                    f"offer {family} {key} (providers that do: {offered})", known, failed)

    def _unknown_provider(self, message: str, known: set[str], failed: list[str]) -> None:
        if not failed or self.config.strict:
            raise ConfigError(f"{message}; known providers: {', '.join(sorted(known)) or 'none'}")
        # It may belong to a plugin that failed or is disabled: keep going, but say so.
        self.warnings.append(f"{message} (it may belong to {', '.join(failed)}, not loaded)")
        log.warning("config.unknown_provider", detail=self.warnings[-1])

    def _configure_plugins(self) -> None:
        for impl in self.pm.hook.gantry_configure.get_hookimpls():
            record = self._record_of(impl.plugin)
            args = {"config": self.config, "settings": self._settings.get(record.name, {}), "kernel": self}
            try:
                impl.function(**{name: args[name] for name in impl.argnames})
            except Exception as err:
                self._fail(record, f"gantry_configure raised: {type(err).__name__}: {err}")
                self._table = offers_of(self.records.values(), self.config.priorities, self.config.pins)

    def _record_of(self, plugin: Any) -> PluginRecord:
        return self.records[self.pm.get_name(plugin) or ""]

    def raise_for_failures(self) -> None:
        """Strict mode: any failed plugin is an error (development and CI)."""
        failed = [r for r in self.records.values() if r.status == FAILED]
        if failed or self.warnings:
            details = [f"{r.name}: {r.error}" for r in failed] + self.warnings
            raise PluginError("strict plugin mode: " + "; ".join(details))

    # -- asking ---------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def settings(self, plugin: str) -> dict[str, Any]:
        """A loaded plugin's own configuration section, defaults filled in."""
        return dict(self._settings.get(plugin, {}))

    def providers(self, family: str, key: str) -> list[Offer]:
        """Every provider of ``key`` in ``family``, best first."""
        return list(self._table.get((family, key), ()))

    def active(self, family: str, key: str) -> Offer | None:
        offers = self._table.get((family, key))
        return offers[0] if offers else None

    def capabilities(self) -> dict[tuple[str, str], list[Offer]]:
        return {capability: list(offers) for capability, offers in sorted(self._table.items())}

    def load(self, ref: str) -> Any:
        """Import a provider's ``"module:attr"`` reference (once per kernel)."""
        if ref not in self._loaded_refs:
            self._loaded_refs[ref] = resolve_ref(ref)
        return self._loaded_refs[ref]

    def call(
        self,
        family: str,
        key: str,
        *args: Any,
        what: str = "",
        check: Callable[[Any], None] | None = None,
        offers: list[Offer] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call the provider for ``(family, key)`` with ``args``.

        In ranked-chain families (readers, decoders, encoders) a provider that raises, or whose
        result ``check`` rejects, hands over to the next one, and each failure is logged. When
        all fail, the family's error (CodecError, ReaderError ...) names every provider tried.
        ``what`` describes the work for that message ("file x.dcm frame 3").
        """
        error = FAMILY_ERRORS.get(family, PluginError)
        about = f"{family} {key}" + (f" for {what}" if what else "")
        candidates = self.providers(family, key) if offers is None else offers
        if not candidates:
            raise error(f"no provider for {about}: no installed plugin offers it")
        if family not in CHAIN_FAMILIES:
            candidates = candidates[:1]
        attempts: list[tuple[str, BaseException]] = []
        for number, offer in enumerate(candidates, start=1):
            try:
                result = self.load(offer.ref)(*args, **kwargs)
                if check is not None:
                    check(result)
                return result
            except Exception as err:
                attempts.append((offer.provider, err))
                if number < len(candidates):  # the last failure is in the error raised below
                    # The message may quote the data it choked on: patient data, for the log.
                    log.warning("provider.failed_falling_back", family=family, key=key,
                                provider=offer.provider, error_type=type(err).__name__, error=Phi(str(err)))
        only = attempts[0][1]
        if len(attempts) == 1 and isinstance(only, error):
            raise only  # one provider, and its own error already says what and where
        raise error(f"every provider failed for {about}", attempts)

    def read(self, source: Any, **options: Any) -> Any:
        """Read a source (path, bytes or binary stream) into a pydicom Dataset.

        Readers whose ``sniff`` rejects the first bytes are skipped; if all reject it, the source
        is not DICOM (:class:`NotDicomError`). Otherwise the ranked chain of readers that accept
        it is tried (:class:`ReaderError` naming each when all fail).
        """
        kind, head = peek(source, SNIFF_BYTES)
        what = describe_source(source)
        accepting = [offer for offer in self.providers("reader", kind)
                     if offer.descriptor.sniff is None  # type: ignore[attr-defined]
                     or self.load(offer.descriptor.sniff)(head)]  # type: ignore[attr-defined]
        if not accepting:
            tried = ", ".join(o.provider for o in self.providers("reader", kind)) or "no reader installed"
            raise NotDicomError(f"{what} is not DICOM (first bytes recognised by none of: {tried})")
        return self.call("reader", kind, source, what=what, offers=accepting, **options)

    def scan(self, path: str | os.PathLike[str] | bytes | list[Any] | tuple[Any, ...],
             keywords: tuple[str, ...] | list[str]) -> dict[str, str]:
        """The listed top-level attributes of a file as index text (see :mod:`gantry.header`).
        ``path`` may also be a whole file's bytes (a received instance), or a list or tuple of
        its consecutive pieces (as a network receiver has them): the fast scan reads them in
        place, pydicom otherwise.

        The best-ranked reader's fast ``scan`` does it when it has one (it tells non-DICOM apart
        itself, which saves opening the file twice); when it has none, says "not DICOM" while
        another reader remains, or fails on this file, the file is read without its pixel data by
        the ranked chain and rendered by :func:`gantry.header.text_values`, so the answer never
        depends on which path ran.
        """
        offers = self.providers("reader", "path")
        scan_ref = offers[0].descriptor.scan if offers else None  # type: ignore[attr-defined]
        if scan_ref is not None:
            try:
                return self.load(scan_ref)(path, keywords)
            except NotDicomError:
                if len(offers) == 1:
                    raise
            except Exception as err:  # the full readers below have the last word on this file
                log.debug("scan.fell_back_to_read", provider=offers[0].provider,
                          error_type=type(err).__name__, error=Phi(str(err)))
        if isinstance(path, bytes | bytearray | memoryview):
            return _scan_bytes(bytes(path), keywords)
        if isinstance(path, list | tuple):
            return _scan_bytes(b"".join(path), keywords)
        with open(path, "rb") as stream:
            head = stream.read(SNIFF_BYTES)
        offers = [offer for offer in offers
                  if offer.descriptor.sniff is None  # type: ignore[attr-defined]
                  or self.load(offer.descriptor.sniff)(head)]  # type: ignore[attr-defined]
        if not offers:
            raise NotDicomError(f"{describe_source(path)} is not DICOM (no reader recognises it)")
        from gantry.header import text_values

        dataset = self.call("reader", "path", path, what=describe_source(path), offers=offers,
                            stop_before_pixels=True)
        return text_values(dataset, keywords)

    def open_storage(self, url: str) -> Any:
        """Open the storage backend for ``url`` (``sqlite:///...``, ``postgresql://...``).

        Exactly one backend serves a URL scheme; the object returned follows
        :class:`gantry.storage.Backend`.
        """
        return self._open_by_scheme("storage", url, "sqlite:///path/project.db")

    def open_instance_store(self, url: str) -> Any:
        """Open the instance store for ``url`` (``file:///srv/gantry/store`` or a plain folder).

        The object returned follows :class:`gantry.storage.InstanceStoreContract`.
        """
        if "://" not in url:  # a plain folder is the local store
            from pathlib import Path

            url = Path(os.path.abspath(url)).as_uri()  # escapes '#', '%' and spaces in names
        return self._open_by_scheme("instance-store", url, "file:///srv/gantry/store")

    def open_transport(self, url: str) -> Any:
        """An adapter to the peer at ``url`` (``dicom://CALLED@host:port`` ...), following
        :class:`gantry.transport.TransportAdapter`."""
        return self._open_by_scheme("transport", url, "dicom://PACS@pacs.example:104", kernel=self)

    def _open_by_scheme(self, family: str, url: str, example: str, **extra: Any) -> Any:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if not scheme:
            raise StorageError(f"{url!r} is not a {family} URL (expected e.g. {example})")
        offer = self.active(family, scheme)
        if offer is None:
            known = sorted({key for fam, key in self._table if fam == family})
            raise StorageError(f"no {family} plugin serves {scheme}:// URLs; installed: "
                               + (", ".join(f"{k}://" for k in known) or "none"))
        return self.call(family, scheme, url, self.settings(offer.plugin), what=masked_url(url), **extra)

    def is_dicom(self, source: Any) -> bool:
        """Quick check from the first bytes only: would any reader accept this source?"""
        kind, head = peek(source, SNIFF_BYTES)
        return any(offer.descriptor.sniff is None or self.load(offer.descriptor.sniff)(head)  # type: ignore[attr-defined]
                   for offer in self.providers("reader", kind))

    def emit(self, event: str, **kwargs: Any) -> None:
        """Fan an event out to every listener; a listener that raises is logged, never fatal."""
        kwargs.setdefault("kernel", self)
        for impl in getattr(self.pm.hook, event).get_hookimpls():
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as err:
                log.error("event.listener_failed", hook=event, plugin=impl.plugin_name,
                          error=f"{type(err).__name__}: {err}")

    def allows(self, dataset: Any, stage: str) -> bool:
        """Every filter must allow: one False (or one filter that raises) rejects."""
        args = {"dataset": dataset, "stage": stage, "kernel": self}
        for impl in self.pm.hook.gantry_accept_instance.get_hookimpls():
            try:
                verdict = impl.function(**{name: args[name] for name in impl.argnames})
            except Exception as err:
                log.error("filter.failed", stage=stage, plugin=impl.plugin_name,
                          error=f"{type(err).__name__}: {err}")
                return False
            if verdict is False:
                log.info("filter.rejected", stage=stage, plugin=impl.plugin_name)
                return False
        return True

    def add_cli_commands(self, app: Any) -> None:
        """Let every plugin add its subcommands; a plugin whose hook raises is marked failed."""
        for impl in self.pm.hook.gantry_cli.get_hookimpls():
            args = {"app": app, "kernel": self}
            try:
                impl.function(**{name: args[name] for name in impl.argnames})
            except Exception as err:
                self._fail(self._record_of(impl.plugin), f"gantry_cli raised: {type(err).__name__}: {err}")
                log.warning("plugin.failed", plugin=impl.plugin_name, error=str(err))
                if self.config.strict:
                    self.raise_for_failures()

    # -- reporting ------------------------------------------------------------------------

    def report(self) -> list[dict[str, Any]]:
        """What ``gantry plugins --json`` prints: one object per plugin (a stable format)."""
        if self._distributions is None:
            self._distributions = distributions_of(self.group)
        active = {(o.family, o.key): o for o in (offers[0] for offers in self._table.values())}
        rows = []
        for name in sorted(self.records):
            record = self.records[name]
            dist = self._distributions.get((record.name, record.target))
            provides = []
            if record.status == LOADED:
                for offers in self._table.values():
                    for offer in offers:
                        if offer.plugin == name:
                            provides.append({
                                "family": offer.family, "key": offer.key, "provider": offer.provider,
                                "priority": offer.priority,
                                "active": active[(offer.family, offer.key)] is offer,
                            })
                provides.sort(key=lambda p: (p["family"], p["key"], p["provider"]))
            rows.append({
                "name": name,
                "distribution": dist[0] if dist else record.distribution,
                "version": dist[1] if dist else record.version,
                "status": record.status,
                "error": record.error if record.status == FAILED else None,
                "provides": provides,
            })
        return rows


def _describe_object(plugin: Any) -> str:
    module = getattr(plugin, "__name__", None) or type(plugin).__module__
    return f"{module} (in-process)"


def _scan_bytes(data: bytes, keywords: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``Kernel.scan`` of a file's bytes when no fast scan took them: pydicom reads them."""
    import io

    from pydicom import dcmread

    from gantry.header import text_values

    try:
        # force: a raw dataset (no preamble, no File Meta) is read as the part10 reader reads it.
        dataset = dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
    except Exception as err:
        raise NotDicomError(f"received bytes are not readable DICOM: {type(err).__name__}: {err}") from err
    if "TransferSyntaxUID" not in dataset.file_meta:  # a raw dataset: the encoding it was read in
        implicit, little = dataset.original_encoding
        dataset.file_meta.TransferSyntaxUID = ("1.2.840.10008.1.2" if implicit else
                                               "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2")
    return text_values(dataset, keywords)
