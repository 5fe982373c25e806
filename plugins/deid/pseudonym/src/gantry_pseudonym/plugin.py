"""Entry module: descriptors, settings and the command only (cryptography and pydicom load when
the step first runs)."""

from __future__ import annotations

from typing import Any

from gantry import DeidAction, Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_deid_actions() -> list[DeidAction]:
    return [
        DeidAction(
            name="pseudonym-cms",
            description="encrypt-originals: the original values of replaced and removed attributes, "
                        "encrypted (CMS EnvelopedData, AES-256, RSA key transport) for the site "
                        "certificate into Encrypted Attributes Sequence (0400,0500), PS3.15 E.1.2",
            codes=("encrypt-originals",),
            apply="gantry_pseudonym.action:apply",
            priority=50,
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="key_file", type="str", default="",
                help="the site's RSA private key (PEM), made on first use with its certificate "
                     "(0600); default $GANTRY_PSEUDONYM_KEY, else gantry-pseudonym.key in the "
                     "working folder. Only recovery reads it"),
        Setting(name="cert_file", type="str", default="",
                help="the certificate encrypted for (PEM); default: the key's path with the "
                     "suffix .crt"),
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    # `gantry deid` is a plain command of gantry-deid, not a group: recovery is its own command.
    app.add_command(LazyCommand("deid-recover", "gantry_pseudonym.cli:recover_command",
                                help="Put the encrypted original attributes back (needs the site's private key)."))
