"""Network guard for tests: put this folder on PYTHONPATH and every Python process
started below it (make's runner, each notebook kernel, each refit worker) refuses to
open a connection or resolve a host name outside this machine.

Loopback stays open because Jupyter kernels talk to papermill over 127.0.0.1. Each
refused attempt is appended to the file named by ``NETWORK_GUARD_LOG`` (if set), so a
test can assert that nothing even tried.
"""

import ipaddress
import os
import socket

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def allowed(family, address) -> bool:
    """True for Unix sockets and loopback addresses; False for anything else."""
    if family == getattr(socket, "AF_UNIX", None) or isinstance(address, (str, bytes)):
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, str) and host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str):
    log = os.environ.get("NETWORK_GUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {what}\n")
    raise OSError(f"network disabled by tests/no_network: refused {what}")


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def guarded_connect(self, address):
    if not allowed(self.family, address):
        _refuse(f"connect to {address!r}")
    return _connect(self, address)


def guarded_connect_ex(self, address):
    if not allowed(self.family, address):
        _refuse(f"connect to {address!r}")
    return _connect_ex(self, address)


def guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not allowed(socket.AF_INET, (name, 0)):
        _refuse(f"name lookup of {name!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = guarded_connect
socket.socket.connect_ex = guarded_connect_ex
socket.getaddrinfo = guarded_getaddrinfo
