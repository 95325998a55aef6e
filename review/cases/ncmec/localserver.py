"""A local CyberTipline: a real HTTP server that speaks the Reporting API, for development and
tests. It is not NCMEC: nothing sent here goes anywhere.

    python -m review.cases.ncmec.localserver --port 8765 [--username U --password P]

then ``NCMEC_URL=http://127.0.0.1:8765/ispws`` with the same user and password. It checks
Basic auth, validates every ``<report>`` and ``<fileDetails>`` against NCMEC's schema
(code 4100 with the validation message when invalid), keeps its state in memory (reports,
files, finished, retracted), answers 5102 to a second finish, deletes unfinished reports
after 24 hours as NCMEC does, and can be told to fail: ``fail("upload")`` answers an error,
``delay("submit", 2.0)`` answers slowly (after acting, as a real server that is slow to
respond would). ``--fail-upload`` and ``--slow-submit SECONDS`` do the same from the command
line.

It imports nothing from Django, so it runs on its own.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from lxml import etree

from review.cases.ncmec import schema

PREFIX = "/ispws"
UNFINISHED_LIFETIME = timedelta(hours=24)
MAX_BODY = 50 * 1024 * 1024

OK, SERVER_ERROR, BAD_REQUEST, VALIDATION_FAILED = 0, 1000, 4000, 4100
UNKNOWN_REPORT, REPORT_RETRACTED, ALREADY_FINISHED, UNKNOWN_FILE = 5100, 5101, 5102, 5103


@dataclass
class StoredFile:
    file_id: str
    name: str
    content: bytes
    md5: str
    details: bytes | None = None


@dataclass
class StoredReport:
    report_id: int
    xml: bytes
    created_at: datetime
    files: dict[str, StoredFile] = field(default_factory=dict)
    finished: bool = False
    retracted: bool = False


@dataclass
class Fault:
    code: int = SERVER_ERROR
    http_status: int = 200
    times: int = 1
    delay: float = 0.0


class CyberTiplineState:
    """Everything the server remembers, behind one lock."""

    def __init__(
        self, clock: Callable[[], datetime] | None = None, *, first_report_id: int = 100_001
    ) -> None:
        self.lock = threading.Lock()
        self.reports: dict[int, StoredReport] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) in arrival order
        self.clock = clock or (lambda: datetime.now(UTC))
        self._ids = itertools.count(first_report_id)
        self._file_ids = itertools.count(1)

    def fail(
        self, path: str, *, code: int = SERVER_ERROR, http_status: int = 200, times: int = 1
    ) -> None:
        """The next ``times`` calls to ``path`` answer ``code`` (or HTTP ``http_status``)."""
        with self.lock:
            self.faults.setdefault(path, []).append(
                Fault(code=code, http_status=http_status, times=times)
            )

    def delay(self, path: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` do their work, then wait before answering."""
        with self.lock:
            self.faults.setdefault(path, []).append(Fault(code=OK, times=times, delay=seconds))

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(path) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def expire_unfinished(self) -> list[int]:
        """Delete reports left unfinished for 24 hours, as NCMEC does."""
        with self.lock:
            cutoff = self.clock() - UNFINISHED_LIFETIME
            gone = [
                r.report_id
                for r in self.reports.values()
                if not r.finished and r.created_at <= cutoff
            ]
            for report_id in gone:
                del self.reports[report_id]
            return gone

    def finished(self) -> list[StoredReport]:
        with self.lock:
            return [r for r in self.reports.values() if r.finished]

    # --- the operations (called by the handler, under the lock) ---------------------------

    def submit(self, xml: bytes) -> tuple[int, str, dict[str, str]]:
        errors = schema.validate(xml, root="report")
        if errors:
            return VALIDATION_FAILED, "; ".join(str(e) for e in errors[:10]), {}
        with self.lock:
            report_id = next(self._ids)
            self.reports[report_id] = StoredReport(report_id, xml, self.clock())
        return OK, "", {"reportId": str(report_id)}

    def _open(self, raw_id: str) -> tuple[int, str, StoredReport | None]:
        try:
            report = self.reports.get(int(raw_id))
        except ValueError:
            return BAD_REQUEST, f"id {raw_id!r} is not a report id", None
        if report is None:
            return UNKNOWN_REPORT, f"no report {raw_id}", None
        if report.retracted:
            return REPORT_RETRACTED, f"report {raw_id} was retracted", None
        if report.finished:
            return ALREADY_FINISHED, f"report {raw_id} is already finished", None
        return OK, "", report

    def upload(self, raw_id: str, name: str, content: bytes) -> tuple[int, str, dict[str, str]]:
        with self.lock:
            code, text, report = self._open(raw_id)
            if report is None:
                return code, text, {}
            file_id = f"f{next(self._file_ids):06d}"
            md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
            report.files[file_id] = StoredFile(file_id, name, content, md5)
        return OK, "", {"reportId": raw_id, "fileId": file_id, "hash": md5}

    def fileinfo(self, xml: bytes) -> tuple[int, str, dict[str, str]]:
        errors = schema.validate(xml, root="fileDetails")
        if errors:
            return VALIDATION_FAILED, "; ".join(str(e) for e in errors[:10]), {}
        root = etree.fromstring(xml, parser=schema.safe_parser())
        raw_id, file_id = root.findtext("reportId", ""), root.findtext("fileId", "")
        with self.lock:
            code, text, report = self._open(raw_id)
            if report is None:
                return code, text, {}
            if file_id not in report.files:
                return UNKNOWN_FILE, f"no file {file_id} in report {raw_id}", {}
            report.files[file_id].details = xml
        return OK, "", {"reportId": raw_id, "fileId": file_id}

    def finish(self, raw_id: str) -> tuple[int, str, dict[str, str], list[str]]:
        with self.lock:
            code, text, report = self._open(raw_id)
            if report is None:
                return code, text, {}, []
            report.finished = True
            return OK, "", {"reportId": raw_id}, list(report.files)

    def retract(self, raw_id: str) -> tuple[int, str, dict[str, str]]:
        with self.lock:
            code, text, report = self._open(raw_id)
            if report is None:
                return code, text, {}
            report.retracted = True
        return OK, "", {"reportId": raw_id}


def report_response(code: int, description: str = "", **values: str) -> bytes:
    parts = [f"<responseCode>{code}</responseCode>"]
    parts.append(f"<responseDescription>{escape(description)}</responseDescription>")
    for tag in ("reportId", "fileId", "hash"):
        if values.get(tag):
            parts.append(f"<{tag}>{escape(values[tag])}</{tag}>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<reportResponse>'
        + "".join(parts)
        + "</reportResponse>"
    ).encode()


def report_done_response(code: int, report_id: str, file_ids: list[str]) -> bytes:
    files = "".join(f"<fileId>{escape(f)}</fileId>" for f in file_ids)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<reportDoneResponse><responseCode>{code}'
        f"</responseCode><reportId>{escape(report_id)}</reportId><files>{files}</files>"
        f"</reportDoneResponse>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    server: CyberTiplineServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # --- plumbing ---------------------------------------------------------------------------

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if hmac.compare_digest(user, self.server.username) and hmac.compare_digest(
                password, self.server.password
            ):
                return True
        self._send(
            401, b"unauthorised\n", "text/plain", {"WWW-Authenticate": 'Basic realm="ispws"'}
        )
        return False

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/xml",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request too large")
        return self.rfile.read(length)

    def _route(self) -> str | None:
        path = self.path.split("?", 1)[0]
        if not path.startswith(PREFIX + "/"):
            self._send(404, b"not found\n", "text/plain")
            return None
        return path[len(PREFIX) + 1 :]

    # --- verbs ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        route = self._route()
        if route is None or not self._authorised():
            return
        self.server.state.requests.append(("GET", route))
        if route == "status":
            self._send(200, report_response(OK, "local CyberTipline is up"))
        elif route == "xsd":
            self._send(200, schema.XSD_PATH.read_bytes())
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        route = self._route()
        if route is None:
            return
        body = self._body()  # read it whatever happens, so the connection stays usable
        if not self._authorised():
            return
        state = self.server.state
        state.requests.append(("POST", route))
        if route not in ("submit", "upload", "fileinfo", "finish", "retract"):
            self._send(404, b"not found\n", "text/plain")
            return
        fault = state.take_fault(route)
        if fault is not None and fault.delay == 0:
            if fault.http_status != 200:
                self._send(fault.http_status, b"injected failure\n", "text/plain")
            else:
                self._send(200, report_response(fault.code, "injected failure (local server)"))
            return
        answer = self._act(route, body)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # the work is done; only the answer is late
        # The client may have given up waiting: exactly the case a delay is for.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send(200, answer)

    def _act(self, route: str, body: bytes) -> bytes:
        state = self.server.state
        if route == "submit":
            return _respond(state.submit(body))
        if route == "fileinfo":
            return _respond(state.fileinfo(body))
        if route == "upload":
            try:
                fields, files = _multipart(self.headers.get("Content-Type", ""), body)
            except ValueError as exc:
                return report_response(BAD_REQUEST, str(exc))
            if "id" not in fields or "file" not in files:
                return report_response(BAD_REQUEST, "upload needs the fields id and file")
            name, content = files["file"]
            return _respond(state.upload(fields["id"], name, content))
        raw_id = parse_qs(body.decode("utf-8", errors="replace")).get("id", [""])[0]
        if not raw_id:
            return report_response(BAD_REQUEST, f"{route} needs the field id")
        if route == "finish":
            code, text, values, files = state.finish(raw_id)
            if code != OK:
                return report_response(code, text, **values)
            return report_done_response(OK, raw_id, files)
        return _respond(state.retract(raw_id))


def _respond(result: tuple[int, str, dict[str, str]]) -> bytes:
    code, text, values = result
    return report_response(code, text, **values)


def _multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    if not content_type.startswith("multipart/form-data"):
        raise ValueError("upload must be multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    if not message.is_multipart():
        raise ValueError("upload is not a readable multipart body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, payload)
        elif name:
            fields[str(name)] = payload.decode("utf-8", errors="replace")
    return fields, files


class CyberTiplineServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int] = ("127.0.0.1", 0),
        *,
        username: str = "artemis",
        password: str = "local-cybertipline",  # noqa: S107 - a local test server's default
        state: CyberTiplineState | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(address, Handler)
        self.username, self.password = username, password
        self.state = state or CyberTiplineState()
        self.verbose = verbose
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def start(self) -> CyberTiplineServer:
        """Serve in a background thread (tests); ``stop()`` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="cybertipline", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="A local CyberTipline Reporting API for development."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--username", default="artemis")
    parser.add_argument("--password", default="local-cybertipline")
    parser.add_argument(
        "--fail-upload", action="store_true", help="answer every upload with an error"
    )
    parser.add_argument(
        "--slow-submit",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="answer the first submit late",
    )
    args = parser.parse_args(argv)
    # It forgets everything when it stops; numbering from the clock keeps a restarted server
    # (a second `make run`) from handing out report ids that earlier cases already hold.
    state = CyberTiplineState(first_report_id=int(time.time()))
    server = CyberTiplineServer(
        (args.host, args.port),
        username=args.username,
        password=args.password,
        state=state,
        verbose=True,
    )
    if args.fail_upload:
        server.state.fail("upload", times=1_000_000)
    if args.slow_submit:
        server.state.delay("submit", args.slow_submit)
    print(f"Local CyberTipline (not NCMEC) at {server.url}", flush=True)
    print(
        f"  NCMEC_URL={server.url} NCMEC_USERNAME={args.username} NCMEC_PASSWORD={args.password}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
