"""``gantry listen --processes N``: one port served by N processes.

pynetdicom runs every association of a listener in threads of one process, so one interpreter
lock serialises all the receiving work (PDU decoding, header reading, writing, indexing). With
``SO_REUSEPORT`` several processes bind the same port and the OS hands each new connection to
one of them; they share the index (SQLite in WAL mode, or PostgreSQL) and the store (which names
files with links, so concurrent writers never clobber each other).

The first process binds first (so a taken port fails at once, before any worker starts), then
starts N-1 workers, each a ``Listener`` with ``reuse_port`` built from the same configuration.
Ctrl-C or SIGTERM stops the workers, then the first listener.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from collections.abc import Mapping
from typing import Any

from pynetdicom.transport import ThreadedAssociationServer

from gantry.log import get_logger

log = get_logger(__name__)

#: How long a worker may take to stop before it is killed.
WORKER_STOP_SECONDS = 15.0


class SharedPortServer(ThreadedAssociationServer):
    """pynetdicom's server with SO_REUSEPORT set before it binds."""

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def start_shared_server(ae: Any, address: tuple[str, int], handlers: list[Any]) -> Any:
    """What ``AE.start_server(block=False)`` does, with :class:`SharedPortServer` (pynetdicom's
    public ``make_server`` takes the class; the AE's server list is where ``AE.shutdown`` and the
    server's own ``shutdown`` look for it)."""
    server = ae.make_server(address, evt_handlers=handlers, server_class=SharedPortServer)
    thread = threading.Thread(target=server.serve_forever, name=f"gantry-dimse-server-{address[1]}", daemon=True)
    thread.start()
    ae._servers.append(server)
    return server


def start_workers(count: int, config: Any, ae_title: str, host: str, port: int, allow: tuple[str, ...],
                  settings: Any, tls: bool) -> list[multiprocessing.process.BaseProcess]:
    """Start ``count`` worker processes listening on ``host:port`` (already bound by the caller)."""
    context = multiprocessing.get_context("spawn")  # no threads inherited half-way through
    workers = []
    for number in range(count):
        worker = context.Process(target=_serve, name=f"gantry-listen-{number + 1}",
                                 args=(_plain(config), ae_title, host, port, allow, settings, tls), daemon=False)
        worker.start()
        workers.append(worker)
    return workers


def stop_workers(workers: list[multiprocessing.process.BaseProcess]) -> None:
    for worker in workers:
        if worker.is_alive():
            worker.terminate()  # SIGTERM: the worker stops its listener as Ctrl-C would
    for worker in workers:
        worker.join(WORKER_STOP_SECONDS)
        if worker.is_alive():
            log.warning("dimse.worker_killed", worker=worker.name)
            worker.kill()
            worker.join()


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so that a terminated listener stops as on Ctrl-C."""
    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _plain(config: Any) -> dict[str, Any]:
    """The site configuration as plain data (its read-only mappings do not pickle)."""
    import attrs

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(plain(item) for item in value)
        return value

    return {field.name: (attrs.asdict(value) if attrs.has(type(value)) else plain(value))
            for field in attrs.fields(type(config)) for value in [getattr(config, field.name)]}


def _config_from(plain: dict[str, Any]) -> Any:
    from gantry.config import Config, LogSettings, StorageSettings

    return Config(**{**plain, "log": LogSettings(**plain["log"]), "storage": StorageSettings(**plain["storage"])})


def _serve(config: Any, ae_title: str, host: str, port: int, allow: tuple[str, ...], settings: Any,
           tls: bool) -> None:
    from gantry.kernel import Kernel

    from gantry_dimse.listener import Listener

    stop_on_sigterm()
    kernel = Kernel(_config_from(config))
    ssl_context = None
    if tls:
        from gantry_dimse.cli import server_ssl_context

        ssl_context = server_ssl_context(kernel)
    listener = Listener(kernel, ae_title, host, port, allow=allow, settings=settings, ssl_context=ssl_context,
                        reuse_port=True)
    try:
        listener.start()
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
