"""Whether a server can listen on host:port, checked before it starts (by `gradlab lab` and `gradlab lessons`)."""

from __future__ import annotations

import os
import socket


def port_problem(host: str, port: int) -> str | None:
    """None if (host, port) can be listened on, else the reason (e.g. 'Address already in use')."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # as the servers do: a port left in TIME_WAIT is free (on Windows this would steal it)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None
