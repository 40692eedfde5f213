"""Where fuzz requests go: the WSGI app in-process over the unit tests' fake conductor
(fresh state on demand, its log records watched), or a running deployment over HTTP."""

from __future__ import annotations

import dataclasses
import http.client
import logging
import tempfile
import types
import urllib.parse
from typing import Any, Callable, Optional

import webob

ADMIN = "admin:admin"
MEMBER = "alice:proj-a"
CLOSED = 0  # the status recorded when a deployment closed the connection unanswered


@dataclasses.dataclass
class Answer:
    status: int
    body: bytes


class _Watch(logging.Handler):
    """Keeps every record logged at ERROR or with a traceback: each one is a finding."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            where = ""
            if record.exc_info and record.exc_info[2] is not None:
                tb = record.exc_info[2]
                while tb.tb_next is not None:
                    tb = tb.tb_next
                code = tb.tb_frame.f_code
                where = (f" [{record.exc_info[0].__name__}: {record.exc_info[1]!s:.200}"
                         f" at {code.co_filename}:{tb.tb_lineno}]")
            self.bad.append(f"{record.name}: {record.getMessage()[:200]}{where}")


class InProcess:
    """The real API pipeline (build_app) over FakeConductor and a local image store."""

    def __init__(self) -> None:
        from nova_lite.image.local import LocalImageStore

        self._tmp = tempfile.TemporaryDirectory(prefix="nl-fuzz-")
        self.images = LocalImageStore(self._tmp.name + "/images")
        src = self._tmp.name + "/cirros.img"
        with open(src, "wb") as f:
            f.write(b"x" * 4096)
        self.images.import_file(None, src, {"name": "cirros", "disk_format": "raw",
                                            "container_format": "bare",
                                            "visibility": "public"})
        self.conf = types.SimpleNamespace(
            api=types.SimpleNamespace(auth_strategy="noauth2", max_limit=1000,
                                      list_records_by_skipping_down_cells=True),
            default_availability_zone="nova", default_schedule_zone=None,
            internal_service_availability_zone="internal")
        self.watch = _Watch()
        logging.getLogger().addHandler(self.watch)
        self.conductor: Any = None
        self.app: Optional[Callable] = None
        self.reset()

    def close(self) -> None:
        logging.getLogger().removeHandler(self.watch)
        self._tmp.cleanup()

    def reset(self) -> None:
        """A fresh fake conductor with the objects only a deployment could make."""
        from nova_lite.api import app as api_app
        from nova_lite.compute import states
        from tests.unit.api.fake_conductor import FakeConductor

        fake = FakeConductor()
        fake.add_compute("c1")
        fake.add_compute("c2", up=False, disabled=True)
        fake.add_service("c1", "nova-scheduler")
        image = self.images.list(None)[0]["id"]
        inst = fake.add_server(name="vm", image_ref=image, metadata={"k1": "v1"},
                               tags=["tag1"])
        fake.add_server(name="off", image_ref=image, vm_state=states.STOPPED)
        fake.add_server(name="bad", image_ref=image, vm_state=states.ERROR, host=None)
        fake.add_migration(inst.uuid, status="running", migration_type="live-migration")
        self.conductor = fake
        self.app = api_app.build_app(self.conf, conductor_api=fake, image_api=self.images)

    def send(self, method: str, path: str, headers: dict, body: Optional[bytes]) -> Answer:
        req = webob.Request.blank(path, method=method)
        for k, v in headers.items():
            req.headers[k] = v
        if body is not None:
            req.body = body
        resp = req.get_response(self.app)
        return Answer(resp.status_int, resp.body)


class Http:
    """A deployment at ``url`` (e.g. http://127.0.0.1:8774): admin requests carry
    ``token``, a project member's carry ``member_token`` (or ``token`` without one)."""

    watch = None

    def __init__(self, url: str, token: str, timeout: float = 30,
                 member_token: Optional[str] = None) -> None:
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.base = u.path.rstrip("/")
        self.token, self.timeout = token, timeout
        self.member_token = member_token or token

    def reset(self) -> None:
        """A deployment keeps its state: nothing to reset."""

    def close(self) -> None:
        pass

    def send(self, method: str, path: str, headers: dict, body: Optional[bytes]) -> Answer:
        headers = dict(headers)
        if "X-Auth-Token" in headers:
            headers["X-Auth-Token"] = (self.member_token if headers["X-Auth-Token"] == MEMBER
                                       else self.token)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.putrequest(method, self.base + path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v.encode("latin-1", "replace"))
            conn.putheader("Content-Length", str(len(body or b"")))
            try:
                conn.endheaders(body)
            except ConnectionError:
                pass  # the server answered (413) and closed before reading it all
            if conn.sock is None:  # closed by the failed send
                return Answer(CLOSED, b"")
            try:
                resp = conn.getresponse()
                return Answer(resp.status, resp.read())
            except (ConnectionError, http.client.HTTPException):
                return Answer(CLOSED, b"")
        finally:
            conn.close()
