"""What every route gets: :class:`ServerContext`.

Route modules (``qido``, ``wado``, ``stow`` and ``rendered``, which another module fills) expose
``<name>_routes(context) -> list[starlette.routing.BaseRoute]``; :func:`gantry_dicomweb_server.app.build_app`
mounts them all under :data:`~gantry_dicomweb_server.settings.SERVICE_PATH` (``/dicom-web``).

``ServerContext`` attributes:

``kernel``
    the :class:`gantry.kernel.Kernel` (readers, codecs, ``emit`` for ``gantry_instance_stored``);
``backend``
    the open storage backend (:class:`gantry.storage.Backend`, thread-safe): ``backend.query(
    "instance", {"StudyInstanceUID": s, "SeriesInstanceUID": se, "SOPInstanceUID": i})`` gives rows
    holding ``location`` (a path to the instance's file), ``transfer_syntax_uid``, ``size`` ...;
``store``
    the instance store STOW writes into (:class:`gantry.storage.InstanceStoreContract`);
``settings``
    :class:`gantry_dicomweb_server.settings.ServerSettings`;

and helpers: ``service_root(request)`` (the public URL of ``/dicom-web``, from
``settings.public_root`` or the request), ``instance_rows(...)`` (index rows of one study, series
or instance), ``run(function, *args)`` (await a blocking call in the thread pool).

Backend and store calls block: call them through ``await context.run(...)`` (or from a sync
endpoint, which starlette runs in its thread pool).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from gantry_dicomweb_server.settings import SERVICE_PATH, ServerSettings

T = TypeVar("T")


@attrs.define(kw_only=True)
class ServerContext:
    kernel: Any
    backend: Any
    store: Any
    settings: ServerSettings = attrs.field(factory=ServerSettings)

    def service_root(self, request: Any) -> str:
        """The public URL of the DICOMweb root, without a trailing slash."""
        if self.settings.public_root:
            return self.settings.public_root
        return str(request.base_url).rstrip("/") + SERVICE_PATH

    def instance_rows(self, study: str, series: str | None = None, instance: str | None = None) -> list[dict[str, Any]]:
        """Index rows (instance level, with file fields) of a study, a series or one instance."""
        filters = {"StudyInstanceUID": _single_uid(study)}
        if series is not None:
            filters["SeriesInstanceUID"] = _single_uid(series)
        if instance is not None:
            filters["SOPInstanceUID"] = _single_uid(instance)
        return list(self.backend.query("instance", filters))

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(function, *args, **kwargs)

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def _single_uid(uid: str) -> str:
    # A path segment names one object: no wildcards, no lists (they would widen the match).
    uid = uid.strip()
    if not uid or any(character not in "0123456789." for character in uid):
        raise InvalidUid(uid)
    return uid


class InvalidUid(ValueError):
    """A UID in the path that is not one (the route answers 400)."""
