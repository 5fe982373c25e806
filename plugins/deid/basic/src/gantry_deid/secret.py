"""The site secret: the key of every keyed de-identification step (UID remapping, date shifts,
template fields). Two machines with the same secret produce the same pseudonyms; without it
nobody can recompute them.

Kept in a file (``[deid] secret_file``, else ``$GANTRY_SECRET_FILE``, else ``gantry-secret.key``
in the working folder), made on first use with 32 random bytes, readable by its owner only.
Its content is never logged; its path is.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gantry import ConfigError
from gantry.log import get_logger

log = get_logger(__name__)

DEFAULT_FILE = "gantry-secret.key"
SIZE = 32


def secret_path(configured: str | None) -> Path:
    return Path(configured or os.environ.get("GANTRY_SECRET_FILE") or DEFAULT_FILE)


def load_or_create_secret(configured: str | None = None) -> bytes:
    """The site secret from its file, created (0600, atomically) when there is none yet."""
    path = secret_path(configured)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _create(path)
    except OSError as err:
        raise ConfigError(f"cannot read the site secret {str(path)!r}: {err.strerror or err}") from None
    if len(data) < 16:
        raise ConfigError(f"the site secret {str(path)!r} holds {len(data)} bytes; at least 16 are "
                          "needed (delete it to have a new one made, which changes every pseudonym)")
    return data


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_bytes(SIZE)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # never replaces a secret another process made meanwhile
    except FileExistsError:
        data = path.read_bytes()
    finally:
        os.unlink(temporary)
    log.warning("deid.secret_created", path=str(path))
    return data
