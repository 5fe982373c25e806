"""Fixtures for the gantry-pseudonym tests (helpers are fixtures: pytest runs with
--import-mode=importlib).

- ``site_key`` / ``other_key``: two key pairs made once per session (RSA 3072 as in use);
- ``pseudonymise(dataset, key)``: the Basic Profile with ``encrypt-originals`` through the
  installed plugins, returning the de-identified dataset and its context.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gantry_pseudonym.keys import KeyPaths, load_private_key, make_site_key

SECRET = b"site secret for the pseudonym tests"


class SiteKey:
    def __init__(self, folder: Path) -> None:
        self.paths = KeyPaths(key=folder / "site.key", certificate=folder / "site.crt")
        self.certificate = make_site_key(self.paths)
        self.private_key = load_private_key(self.paths.key)

    @property
    def settings(self) -> dict[str, str]:
        return {"key_file": str(self.paths.key), "cert_file": str(self.paths.certificate)}


@pytest.fixture(scope="session")
def site_key(tmp_path_factory: pytest.TempPathFactory) -> SiteKey:
    return SiteKey(tmp_path_factory.mktemp("site-key"))


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> SiteKey:
    return SiteKey(tmp_path_factory.mktemp("other-key"))


@pytest.fixture(scope="session")
def pseudonymising_kernel() -> Any:
    from gantry.testing.fixtures import kernel_with

    return kernel_with(discover=True)


@pytest.fixture
def pseudonymise(pseudonymising_kernel: Any) -> Callable[[Any, SiteKey], tuple[Any, Any]]:
    from gantry_deid import compile_plan, deidentify_dataset, make_context

    kernel = pseudonymising_kernel
    plan = compile_plan(kernel, "basic", steps=("encrypt-originals",))

    def run(dataset: Any, key: SiteKey) -> tuple[Any, Any]:
        settings = {name: kernel.settings(name) for name in kernel.records}
        settings["pseudonym"] = key.settings
        context = make_context(dataset, secret=SECRET, plan=plan, settings=settings)
        return deidentify_dataset(dataset, plan, context), context

    return run
