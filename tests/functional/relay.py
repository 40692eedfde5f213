"""A TCP relay the fault tests put between the daemons and RabbitMQ or MariaDB.

Cutting it is an outage as the daemons see one (every connection reset, new ones
refused) without touching the machine's shared services; restoring it lets them
reconnect. Holding it stalls every open connection without breaking any (a database
that has stopped answering for a moment), so a request is in flight for as long as a
test needs. Bounded: daemon threads, closed with the relay.
"""

from __future__ import annotations

import socket
import struct
import threading

from tests.functional import harness


class Relay:
    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.port = harness.free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._flowing = threading.Event()
        self._flowing.set()
        self.restore()

    def hold(self) -> None:
        """Stop passing bytes either way; connections stay open."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    def restore(self) -> None:
        """Accept connections (again)."""
        with self._lock:
            if self._listener is not None:
                return
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(512)
            self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        self._flowing.set()
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
        if listener is not None:
            listener.close()
        for conn in conns:
            _reset(conn)

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _reset(client)
                    _reset(upstream)
                    continue
                self._conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._flowing.wait(timeout=120)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
            src.close()  # the other direction's pump closes dst


def _reset(sock: socket.socket) -> None:
    """End the connection at once, as a peer that vanished does: a close with a reset
    (SO_LINGER 0), after a shutdown. A close alone would not end it while a pump thread
    is blocked reading the socket (the read keeps it open), and the database would keep
    that session, with its transaction and row locks, alive for hours."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
