"""Serve an ASGI app (usually a CRM emulator) over real HTTP on a loopback port, in a background thread.

Tests that must see real connection behaviour (a dropped response, keep-alive, timeouts) need a real
socket; everything else can talk to the app in-process.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from callsync_sandbox.faults import ResponseDropped

_POLL_S = 0.01


class _HideDroppedResponses(logging.Filter):
    """Drop uvicorn's error log for responses a fault plan cut on purpose; they are not failures.

    Only records carrying our own `ResponseDropped` are hidden, so installing this on the shared
    uvicorn logger cannot mask a genuine error from any other app in the process.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # callsync's log redaction moves the exception off `exc_info` (its text is masked) but keeps it here.
        exception = record.exc_info[1] if record.exc_info else getattr(record, "callsync_exception", None)
        return not isinstance(exception, ResponseDropped)


_DROP_FILTER = _HideDroppedResponses()


class SandboxServer:
    """Context manager running `app` under uvicorn on `host:port` (port 0 = any free port)."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        # An emulator accepts a well-known token, so it must never be reachable from another machine.
        if not _is_ipv4_loopback(host):
            raise ValueError(f"SandboxServer binds to IPv4 loopback only, got host={host!r}")
        self._app = app
        self._host = host
        self._port = port
        self._startup_timeout_s = startup_timeout_s
        self._shutdown_timeout_s = shutdown_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("SandboxServer is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("SandboxServer is already running")
        logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
        # Binding here, not in uvicorn, gives the real port before the thread starts and turns a
        # bind failure into an ordinary exception in the caller.
        self._socket = socket.create_server((self._host, self._port))
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._run, args=(self._server, self._socket), name="sandbox-server", daemon=True
        )
        self._thread.start()
        self._wait_started(self._server, self._thread)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self._shutdown_timeout_s)
        if thread.is_alive():
            server.force_exit = True
            thread.join(1.0)
        self._close_socket()
        self._server = self._thread = None
        if thread.is_alive():
            raise RuntimeError(f"SandboxServer did not stop within {self._shutdown_timeout_s} s")

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self._app,
            log_level="warning",
            # log_config=None keeps uvicorn from reconfiguring the whole process's logging.
            log_config=None,
            lifespan="off",
            loop="asyncio",
            # Pinned rather than "auto" so a dropped response behaves the same whether or not
            # httptools happens to be installed.
            http="h11",
            # Whole seconds only; half the bound leaves time for the thread itself to wind down.
            timeout_graceful_shutdown=max(1, math.floor(self._shutdown_timeout_s / 2)),
        )

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by _wait_started; a thread has no caller to raise to
            self._error = exc

    def _wait_started(self, server: uvicorn.Server, thread: threading.Thread) -> None:
        deadline = time.monotonic() + self._startup_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                reason = repr(self._error) if self._error else f"not ready after {self._startup_timeout_s} s"
                self._abandon()
                raise RuntimeError(f"SandboxServer failed to start: {reason}")
            time.sleep(_POLL_S)

    def _abandon(self) -> None:
        if self._server is not None:
            self._server.should_exit = self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(1.0)
        self._close_socket()
        self._server = self._thread = None

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _is_ipv4_loopback(host: str) -> bool:
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False
