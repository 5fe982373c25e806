"""The ``dicom://`` transport adapter: what ``kernel.open_transport("dicom://...")`` returns.

    with kernel.open_transport("dicom://PACS@pacs.example:104?calling=GANTRY") as pacs:
        pacs.echo()

One adapter talks to one remote AE. It owns a pynetdicom AE and a pool of associations, so
consecutive operations share an association; associating goes through bounded retries and the
node's circuit breaker. Operations are DIMSE service providers (see :mod:`gantry_dimse.services`):
C-ECHO is built in; C-FIND, C-MOVE/C-GET and C-STORE providers add ``find``, ``retrieve`` and
``store`` later through the same ``run`` extension point.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from gantry import TransportError
from gantry.transport import EchoResult, RetrieveResult, StoreResult

from gantry_dimse.associations import AssociationKey, AssociationPool, make_client_ae, open_association
from gantry.resilience import BREAKERS, CircuitBreaker
from gantry_dimse.retry import with_retries
from gantry_dimse.services import AssociationLost
from gantry_dimse.settings import DimseSettings
from gantry_dimse.urls import DicomAddress, parse_dicom_url

T = TypeVar("T")


def open_transport(url: str, settings: Mapping[str, Any] | None = None, kernel: Any = None, *,
                   ssl_context: ssl.SSLContext | None = None) -> DimseTransport:
    """The Transport factory: ``url`` is a dicom:// URL or a configured node (``dicom://pacs``).

    ``kernel``, when given, lets the adapter use the kernel's active ``dimse-scu`` providers
    instead of the built-in ones (``Kernel.open_transport`` passes itself). ``ssl_context`` runs
    every association over TLS: a dicoms:// transport (gantry-tls) passes one.
    """
    config = DimseSettings.from_mapping(settings)
    return DimseTransport(parse_dicom_url(url, config), config, scu_providers=_scu_providers(kernel),
                          kernel=kernel, ssl_context=ssl_context)


def _scu_providers(kernel: Any) -> dict[str, Callable[..., Any]]:
    if kernel is None:
        return {}
    providers = {}
    for (family, service), offers in kernel.capabilities().items():
        if family == "dimse-scu" and offers:
            providers[service] = kernel.load(offers[0].ref)
    return providers


class DimseTransport:
    """A connection to one remote AE (see the module docstring)."""

    def __init__(self, address: DicomAddress, settings: DimseSettings | None = None, *,
                 scu_providers: Mapping[str, Callable[..., Any]] | None = None, kernel: Any = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        settings = settings or DimseSettings()
        if address.secure and ssl_context is None:
            # Never fall back to plain TCP for an address that asked for TLS.
            raise TransportError(f"{address.url}: dicoms:// needs TLS settings (install gantry-tls)")
        self.address = address
        self.url = address.url
        self.ae = make_client_ae(address.calling_ae, address.timeouts, ssl_context)
        self.ae.maximum_pdu_size = settings.max_pdu_size  # C-GET and C-FIND answers come in PDUs this big
        self.breaker: CircuitBreaker = BREAKERS.breaker(
            address.host, address.port, f"{address.called_ae}@{address.endpoint}",
            failures=settings.breaker.failures, reset=settings.breaker.reset, scheme="dicom")
        self.pool = AssociationPool(self._associate, idle_timeout=settings.idle_timeout)
        self._scu_providers = dict(scu_providers or {})
        self.kernel = kernel
        """The kernel that opened this adapter (None when built directly): providers use its
        readers and codecs (C-STORE scans and transcodes files with it)."""

    # -- the TransportAdapter contract ------------------------------------------------------

    def echo(self) -> EchoResult:
        """C-ECHO. TransportError when the node cannot be reached or refuses the association."""
        return self._scu("C-ECHO")(self)

    def find(self, level: str, keys: Mapping[str, str], *, model: str = "study",
             limit: int | None = None) -> Iterator[Any]:
        """C-FIND: matching identifiers as pydicom Datasets (the active C-FIND SCU, gantry-cfind)."""
        return self._scu("C-FIND")(self, level, keys, model=model, limit=limit)

    def retrieve(self, level: str, keys: Mapping[str, str], *, into: Any = None,
                 destination: str | None = None, model: str = "study") -> Iterator[RetrieveResult]:
        """Fetch matching instances ``into`` an instance store (or a folder) with the active C-GET
        SCU (gantry-cget), or with ``destination`` have the peer send them to that AE with the
        active C-MOVE SCU (gantry-cmove)."""
        if destination is not None:
            return self._scu("C-MOVE")(self, level, keys, destination=destination, model=model)
        return self._scu("C-GET")(self, level, keys, into=into, model=model)

    def store(self, instances: Iterable[Any], **options: Any) -> Iterator[StoreResult]:
        """C-STORE files and folders: one StoreResult per file (the active C-STORE SCU's
        options, e.g. ``continue_on_error``, ``progress``)."""
        return self._scu("C-STORE")(self, instances, **options)

    def close(self) -> None:
        self.pool.close()
        self.ae.shutdown()  # aborts anything a caller still holds, so no thread outlives us

    def __enter__(self) -> DimseTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DimseTransport({self.address})"

    # -- the extension point for DIMSE service providers -------------------------------------

    def run(self, abstract_syntaxes: Sequence[str], operation: Callable[[Any], T], *,
            transfer_syntaxes: Sequence[str] = (),
            contexts: Sequence[tuple[str, Sequence[str]]] = (),
            scp_roles: Sequence[str] = ()) -> T:
        """Run ``operation(association)`` on a pooled association offering these contexts.

        If the operation loses a *reused* association (the peer dropped it while idle), it runs
        once more on a fresh one; every other error goes to the caller. ``contexts`` adds
        contexts with their own transfer syntaxes, ``(abstract syntax, syntaxes)`` each;
        ``scp_roles`` proposes the SCP role for those abstract syntaxes (role selection).
        """
        key = AssociationKey(host=self.address.host, port=self.address.port,
                             called_ae=self.address.called_ae, calling_ae=self.address.calling_ae,
                             abstract_syntaxes=tuple(abstract_syntaxes),
                             transfer_syntaxes=tuple(transfer_syntaxes),
                             contexts=tuple((uid, tuple(syntaxes)) for uid, syntaxes in contexts),
                             scp_roles=tuple(scp_roles))
        reused = False
        try:
            with self.pool.lease(key) as lease:
                reused = lease.reused
                return operation(lease.association)
        except AssociationLost:
            if not reused:
                raise
        with self.pool.lease(key, fresh=True) as lease:
            return operation(lease.association)

    def _associate(self, key: AssociationKey) -> Any:
        return with_retries(lambda: open_association(self.ae, key), policy=self.address.retry,
                            breaker=self.breaker, where=f"{key.called_ae}@{key.endpoint}")

    def _scu(self, service: str) -> Callable[..., Any]:
        if service in self._scu_providers:
            return self._scu_providers[service]
        if service != "C-ECHO":
            raise TransportError(f"{self.url}: no {service} provider is installed "
                                 f"(e.g. gantry-{service.lower().replace('-', '')})")
        from gantry_dimse.echo import echo_scu

        return echo_scu
