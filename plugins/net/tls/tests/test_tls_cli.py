"""``gantry listen dicoms://`` and ``gantry echo dicoms://`` through the real command group."""

from __future__ import annotations

import signal
import subprocess
import sys

from gantry_dimse.testing import free_port, wait_until


def test_listen_serves_mutual_tls_and_echo_reaches_it(pki, client_settings, tmp_path):
    port = free_port()
    server_config = tmp_path / "server.toml"
    server_config.write_text(f'[tls]\nca_file = "{pki.ca}"\ncert_file = "{pki.server_cert}"\n'
                             f'key_file = "{pki.server_key}"\nrequire_client_cert = true\n')
    client_config = tmp_path / "client.toml"
    client_config.write_text("[dimse]\nretries = 0\n[tls]\n"
                             + "".join(f'{key} = "{value}"\n' for key, value in client_settings.items()))
    server = subprocess.Popen([sys.executable, "-m", "gantry", "--config", str(server_config), "listen",
                               f"dicoms://OURAE@127.0.0.1:{port}"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def echo(config) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gantry", "--config", str(config), "echo",
                               f"dicoms://OURAE@127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)

    try:
        assert wait_until(lambda: echo(client_config).returncode == 0, 30), "the TLS listener never answered"
        plain = tmp_path / "plain.toml"
        plain.write_text(f'[dimse]\nretries = 0\n[tls]\nca_file = "{pki.ca}"\n')
        assert echo(plain).returncode == 1  # no client certificate
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=20)
    assert server.returncode == 0, errors
    assert "listening as OURAE on 127.0.0.1" in errors
