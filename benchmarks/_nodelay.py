"""Run a pynetdicom bundled app with TCP_NODELAY on its sockets, for a fair comparison.

    python benchmarks/_nodelay.py storescu 127.0.0.1 11112 folder -r

pynetdicom 3.0's apps leave Nagle's algorithm on: each small C-STORE then waits ~40-90 ms for
a delayed ACK (see /work/shared/peers.md), which measures the kernel's timers, not pynetdicom.
This sets TCP_NODELAY on every TCP socket the app connects or accepts, then runs
``python -m pynetdicom ARGS`` unchanged.
"""

from __future__ import annotations

import runpy
import socket
import sys

_connect = socket.socket.connect
_accept = socket.socket.accept


def _nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect(self: socket.socket, address: object) -> None:
    _nodelay(self)
    _connect(self, address)


def accept(self: socket.socket) -> tuple[socket.socket, object]:
    conn, address = _accept(self)
    _nodelay(conn)
    return conn, address


socket.socket.connect = connect  # type: ignore[method-assign]
socket.socket.accept = accept  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv = ["pynetdicom", *sys.argv[1:]]
    runpy.run_module("pynetdicom", run_name="__main__", alter_sys=True)
