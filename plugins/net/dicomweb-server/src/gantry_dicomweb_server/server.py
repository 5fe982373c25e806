"""Running the application with uvicorn: in the foreground (``gantry serve``) or in a thread
(tests, embedding hosts).

    context = open_context(kernel, database="sqlite:///gantry.db", store="/srv/store")
    with BackgroundServer(context, port=0) as server:     # port 0: a free one
        print(server.url)                                  # http://127.0.0.1:PORT/dicom-web
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from gantry import GantryError
from gantry.sources import DEFAULT_STORE

from gantry_dicomweb_server.context import ServerContext
from gantry_dicomweb_server.settings import SERVICE_PATH, ServerSettings

SETTINGS_SECTION = "dicomweb-server"


def site_settings(kernel: Any, **overrides: Any) -> ServerSettings:
    """The ``[dicomweb-server]`` section (defaults when the plugin is not registered), overridden."""
    import attrs

    values = kernel.settings(SETTINGS_SECTION) if SETTINGS_SECTION in kernel.records else None
    settings = ServerSettings.from_mapping(values)
    return attrs.evolve(settings, **{name: value for name, value in overrides.items() if value is not None})


def open_context(kernel: Any, *, database: str | None = None, store: str | None = None,
                 settings: ServerSettings | None = None) -> ServerContext:
    """Open the backend and the store (``--db``/``--store``, else ``[storage]``)."""
    backend = kernel.open_storage(database or kernel.config.storage.database)
    try:
        instance_store = kernel.open_instance_store(store or kernel.config.storage.store or DEFAULT_STORE)
    except BaseException:
        backend.close()
        raise
    return ServerContext(kernel=kernel, backend=backend, store=instance_store,
                         settings=settings or site_settings(kernel))


def uvicorn_server(context: ServerContext, host: str, port: int, sock: socket.socket | None = None) -> Any:
    import uvicorn

    from gantry_dicomweb_server.app import build_app

    config = uvicorn.Config(build_app(context), host=host, port=port, log_config=None, access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    return uvicorn.Server(config)


class BackgroundServer:
    """The server in a daemon thread on ``host``:``port`` (0: a free port). ``stop()`` ends it
    and closes the context."""

    def __init__(self, context: ServerContext, *, host: str = "127.0.0.1", port: int = 0,
                 close_context: bool = True) -> None:
        self.context = context
        self.host = host
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = self._socket.getsockname()[1]
        self._close_context = close_context
        self._server = uvicorn_server(context, host, self.port)
        self._thread = threading.Thread(target=self._serve, name=f"dicomweb-{self.port}", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{SERVICE_PATH}"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as err:  # reported by start()
            self._error = err

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise GantryError(f"the DICOMweb server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise GantryError("the DICOMweb server did not start in time")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=20)
        self._socket.close()
        if self._close_context:
            self.context.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
