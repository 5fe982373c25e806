"""Descriptors: what a plugin's hooks return.

A descriptor names a provider, the capability keys it serves (transfer syntaxes, URL schemes,
action codes ...) and its priority. The code that does the work is referenced as a lazy
``"module:attr"`` string, so describing a plugin imports nothing heavy: the kernel imports the
module the first time that provider is actually used.

Each descriptor offers one or more *capabilities*: ``(family, key, role)`` triples. The family
says what kind of thing is offered ("decoder", "transport" ...), the key is what the kernel ranks
on, and the role is the attribute holding the ``"module:attr"`` reference to call for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")

#: Every family the kernel ranks, with what its ranking means. Hookspec docstrings say the same.
FAMILIES: dict[str, str] = {
    "reader": "ranked chain: the best reader that accepts the source; the next one if it raises",
    "decoder": "ranked chain: the best decoder for a transfer syntax; the next one if it raises",
    "encoder": "ranked chain: the best encoder for a transfer syntax; the next one if it raises",
    "transport": "one active provider per URL scheme",
    "dimse-scu": "one active provider per DIMSE service (requesting side)",
    "dimse-scp": "one active provider per DIMSE service (answering side)",
    "deid-action": "one active provider per de-identification action code",
    "deid-profile": "one active provider per de-identification profile name",
    "storage": "exactly one active backend per URL scheme",
    "instance-store": "exactly one active instance store per URL scheme",
}

#: Families where a provider that raises at run time hands over to the next-ranked one.
CHAIN_FAMILIES = frozenset({"reader", "decoder", "encoder"})


def _check_name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name} must be lower-case letters, digits, "
            f"'.', '_' or '-' (starting with a letter or digit), got {value!r}"
        )


def _check_priority(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{type(instance).__name__}.priority must be an int, got {type(value).__name__} {value!r}"
        )


def _check_ref(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _REF.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name} must be a 'package.module:attribute' "
            f"string, got {value!r}"
        )


def _check_keys(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must name at least one key")
    for key in value:
        if not isinstance(key, str) or not key.strip():
            raise ValueError(
                f"{type(instance).__name__}.{attribute.name} holds an empty or non-string key: {key!r}"
            )


def _keys(value: Any) -> tuple[str, ...]:
    # A lone string is a common slip ("1.2.840..." instead of ("1.2.840...",)): accept it.
    return (value,) if isinstance(value, str) else tuple(value)


def _ref_field(required: bool = True) -> Any:
    if required:
        return attrs.field(validator=_check_ref)
    return attrs.field(default=None, validator=_check_ref)


@attrs.frozen(kw_only=True)
class Descriptor:
    """Common part of every descriptor: a unique name and a priority (higher wins)."""

    name: str = attrs.field(validator=_check_name)
    priority: int = attrs.field(default=50, validator=_check_priority)
    description: str = ""

    kind: ClassVar[str] = "descriptor"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(family, key, role)`` for everything this descriptor offers."""
        raise NotImplementedError


@attrs.frozen(kw_only=True)
class Reader(Descriptor):
    """Turns a source into a pydicom Dataset.

    ``read(source, **options) -> pydicom.Dataset`` where ``source`` is a path, bytes or a binary
    stream, per ``sources``. ``sniff(head: bytes) -> bool``, optional, answers from the first
    bytes of a source whether this reader can read it at all; it must be cheap.

    ``scan(path, keywords) -> dict[str, str]``, optional, is the fast path for indexing: it reads
    only the listed top-level attributes of a file, without building a Dataset. Values come back
    as text the way :func:`gantry.header.text_values` renders them from a Dataset (the reference
    a scanner must agree with); absent attributes are left out; ``TransferSyntaxUID`` comes from
    the File Meta. The kernel calls it without sniffing first: it raises NotDicomError for
    anything its ``sniff`` would refuse, and ReaderError for a damaged file, like ``read``.
    """

    read: str = _ref_field()
    sniff: str | None = _ref_field(required=False)
    scan: str | None = _ref_field(required=False)
    sources: tuple[str, ...] = attrs.field(
        default=("path", "bytes", "stream"), converter=_keys, validator=_check_keys
    )
    kind: ClassVar[str] = "reader"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for source in self.sources:
            yield "reader", source, "read"


@attrs.frozen(kw_only=True)
class Codec(Descriptor):
    """Decodes and/or encodes pixel data for some transfer syntaxes.

    ``decode(frame: bytes, info) -> numpy.ndarray`` and ``encode(array, info) -> bytes``; either
    may be None (a decode-only or encode-only codec), not both.
    """

    transfer_syntaxes: tuple[str, ...] = attrs.field(converter=_keys, validator=_check_keys)
    decode: str | None = _ref_field(required=False)
    encode: str | None = _ref_field(required=False)
    kind: ClassVar[str] = "codec"

    def __attrs_post_init__(self) -> None:
        if self.decode is None and self.encode is None:
            raise ValueError(f"Codec {self.name!r} has neither decode nor encode")

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for syntax in self.transfer_syntaxes:
            if self.decode is not None:
                yield "decoder", syntax, "decode"
            if self.encode is not None:
                yield "encoder", syntax, "encode"


TRANSPORT_OPERATIONS = ("echo", "find", "retrieve", "store")


def _check_operations(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(TRANSPORT_OPERATIONS))
    if unknown:
        raise ValueError(
            f"Transport {instance.name!r} declares unknown operations {unknown}; "
            f"allowed: {', '.join(TRANSPORT_OPERATIONS)}"
        )


@attrs.frozen(kw_only=True)
class Transport(Descriptor):
    """Moves DICOM to and from somewhere named by a URL scheme (``dicom``, ``dicomweb+https`` ...).

    ``factory(url, settings) -> adapter`` whose methods are the declared ``operations``:
    ``echo()``, ``find(level, keys)``, ``retrieve(level, keys, into)``, ``store(instances)``.
    """

    schemes: tuple[str, ...] = attrs.field(converter=_keys, validator=_check_keys)
    factory: str = _ref_field()
    operations: tuple[str, ...] = attrs.field(
        default=TRANSPORT_OPERATIONS, converter=_keys, validator=_check_operations
    )
    kind: ClassVar[str] = "transport"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for scheme in self.schemes:
            yield "transport", scheme, "factory"


@attrs.frozen(kw_only=True)
class DimseService(Descriptor):
    """One DIMSE service (``C-ECHO``, ``C-STORE`` ...) on the requesting and/or answering side.

    ``scu`` and ``scp`` reference the callables implementing each role; either may be None.
    """

    service: str = attrs.field(validator=attrs.validators.matches_re(r"^[CN]-[A-Z-]+$"))
    scu: str | None = _ref_field(required=False)
    scp: str | None = _ref_field(required=False)
    kind: ClassVar[str] = "dimse-service"

    def __attrs_post_init__(self) -> None:
        if self.scu is None and self.scp is None:
            raise ValueError(f"DimseService {self.name!r} has neither scu nor scp")

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        if self.scu is not None:
            yield "dimse-scu", self.service, "scu"
        if self.scp is not None:
            yield "dimse-scp", self.service, "scp"


@attrs.frozen(kw_only=True)
class DeidAction(Descriptor):
    """A named de-identification action (``X``, ``Z``, ``D``, ``shift``, ``remap`` ...).

    ``apply(dataset, element, context) -> None`` changes the element in place (on a copy the
    kernel owns; originals are never touched).
    """

    codes: tuple[str, ...] = attrs.field(converter=_keys, validator=_check_keys)
    apply: str = _ref_field()
    kind: ClassVar[str] = "deid-action"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for code in self.codes:
            yield "deid-action", code, "apply"


@attrs.frozen(kw_only=True)
class DeidProfile(Descriptor):
    """A named rule set (``basic``, ``retain-uids`` ...). ``rules() -> rule table``."""

    profile: str = attrs.field(validator=_check_name)
    rules: str = _ref_field()
    kind: ClassVar[str] = "deid-profile"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        yield "deid-profile", self.profile, "rules"


@attrs.frozen(kw_only=True)
class StorageBackend(Descriptor):
    """Persistence for the index, audit trail and plugin tables, chosen by URL scheme.

    ``open(url, settings) -> backend`` following :class:`gantry.storage.Backend`.
    """

    schemes: tuple[str, ...] = attrs.field(converter=_keys, validator=_check_keys)
    open: str = _ref_field()
    kind: ClassVar[str] = "storage-backend"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for scheme in self.schemes:
            yield "storage", scheme, "open"


@attrs.frozen(kw_only=True)
class InstanceStore(Descriptor):
    """Where instance files are kept (a folder, an object store ...), chosen by URL scheme.

    ``open(url, settings) -> store`` following :class:`gantry.storage.InstanceStoreContract`.
    """

    schemes: tuple[str, ...] = attrs.field(converter=_keys, validator=_check_keys)
    open: str = _ref_field()
    kind: ClassVar[str] = "instance-store"

    def capabilities(self) -> Iterator[tuple[str, str, str]]:
        for scheme in self.schemes:
            yield "instance-store", scheme, "open"


SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": list,
}


@attrs.frozen(kw_only=True)
class Setting:
    """One setting in a plugin's own configuration section (the section is the plugin's name).

    The kernel validates every section against the settings its plugin declares: an unknown key,
    a wrong type or a value outside ``choices`` is a ConfigError naming the key.
    """

    name: str = attrs.field(validator=_check_name)
    type: str = attrs.field(default="str", validator=attrs.validators.in_(tuple(SETTING_TYPES)))
    default: Any = None
    choices: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    help: str = ""


#: Which hook returns which descriptor class: the kernel checks every returned object.
DESCRIPTOR_HOOKS: dict[str, type[Descriptor]] = {
    "gantry_readers": Reader,
    "gantry_codecs": Codec,
    "gantry_transports": Transport,
    "gantry_dimse_services": DimseService,
    "gantry_deid_actions": DeidAction,
    "gantry_deid_profiles": DeidProfile,
    "gantry_storage_backends": StorageBackend,
    "gantry_instance_stores": InstanceStore,
}
