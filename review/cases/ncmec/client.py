"""The CyberTipline Reporting API over HTTPS with Basic auth.

    GET  /status                  is the service up and are the credentials good
    POST /submit    <report>      opens a report; answers its reportId
    POST /upload    id, file      adds a file to an open report; answers fileId and MD5
    POST /fileinfo  <fileDetails> describes an uploaded file
    POST /finish    id            closes the report; answers <reportDoneResponse> (the receipt)
    POST /retract   id            withdraws an open report (before finish only)

Every answer is XML (``reportResponse`` or ``reportDoneResponse``) with a responseCode: 0 is
success, anything else is an error, turned here into a CyberTiplineError that says what
happened in words.

Network errors are retried with backoff, but only where a retry cannot create something
twice. /status, /fileinfo, /finish and /retract are safe to repeat (a repeated finish answers
5102, "already finished"). /submit and /upload are retried only when the request certainly
never reached NCMEC (the connection was refused or never opened); after a read timeout or a
dropped connection NCMEC may have acted, so the client raises CyberTiplineUnreachable with
``maybe_delivered=True`` and leaves the decision to the caller (``review.cases.ncmec.services``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import requests
from defusedxml import ElementTree
from django.conf import settings
from urllib3.exceptions import NameResolutionError, NewConnectionError

from review.models import ReviewError

logger = logging.getLogger("artemis.ncmec")

# The codes this project knows. 0, 4100 and 5102 are NCMEC's; the others are the ones the
# local server (review.cases.ncmec.localserver) uses for cases NCMEC's published material in this
# repository does not name. For any other code the message quotes NCMEC's own description.
# NCMEC's documentation (<NCMEC_URL>/documentation) is the authority.
OK = 0
SERVER_ERROR = 1000
BAD_REQUEST = 4000
VALIDATION_FAILED = 4100
UNKNOWN_REPORT = 5100
REPORT_RETRACTED = 5101
ALREADY_FINISHED = 5102
UNKNOWN_FILE = 5103
CODES = {
    SERVER_ERROR: "NCMEC had an internal error",
    BAD_REQUEST: "NCMEC could not read the request",
    VALIDATION_FAILED: "NCMEC rejected the document as invalid against its schema",
    UNKNOWN_REPORT: "NCMEC does not know this report id",
    REPORT_RETRACTED: "the report was retracted",
    ALREADY_FINISHED: "the report is already finished",
    UNKNOWN_FILE: "NCMEC does not know this file id for the report",
}


class CyberTiplineError(ReviewError):
    """NCMEC answered with an error (its ``response_code``), or could not be reached."""

    code = "upstream"

    def __init__(self, step: str, message: str, *, response_code: int | None = None) -> None:
        super().__init__(f"NCMEC {step}: {message}")
        self.step = step
        self.response_code = response_code


class CyberTiplineUnreachable(CyberTiplineError):
    """No answer (network error, timeout, HTTP 5xx) after the retries allowed.
    ``maybe_delivered``: the request may have reached NCMEC and been acted on."""

    def __init__(self, step: str, message: str, *, maybe_delivered: bool) -> None:
        super().__init__(step, message)
        self.maybe_delivered = maybe_delivered


@dataclass(frozen=True)
class Answer:
    code: int
    description: str = ""
    report_id: str = ""
    file_id: str = ""
    md5: str = ""
    file_ids: list[str] = field(default_factory=list)
    raw: str = ""


def parse_answer(body: bytes) -> Answer:
    """A ``reportResponse`` or ``reportDoneResponse``, parsed without trusting it (no
    entities, no DTDs)."""
    root = ElementTree.fromstring(body)

    def text(tag: str) -> str:
        element = root.find(tag)
        return (element.text or "").strip() if element is not None else ""

    if root.tag not in ("reportResponse", "reportDoneResponse"):
        raise ValueError(f"unexpected answer <{root.tag}>")
    return Answer(
        code=int(text("responseCode")),
        description=text("responseDescription"),
        report_id=text("reportId"),
        file_id=text("fileId"),
        md5=text("hash").lower(),
        file_ids=[(e.text or "").strip() for e in root.findall("files/fileId")],
        raw=body.decode("utf-8", errors="replace"),
    )


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the server: the connection was never
    opened (refused, DNS failure, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


class CyberTiplineClient:
    def __init__(
        self,
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float | None = None,
        connect_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        self.url = (url or settings.NCMEC_URL).rstrip("/")
        self.auth = (
            username if username is not None else settings.NCMEC_USERNAME,
            password if password is not None else settings.NCMEC_PASSWORD,
        )
        self.timeout = (connect_timeout, timeout or settings.NCMEC_TIMEOUT_SECONDS)
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()

    # --- the calls ----------------------------------------------------------------------

    def status(self) -> Answer:
        return self._call("status", "GET", "/status", repeatable=True)

    def submit(self, report: bytes) -> str:
        answer = self._call(
            "submit", "POST", "/submit", data=report, headers=_XML, repeatable=False
        )
        if not answer.report_id:
            raise CyberTiplineError("submit", "NCMEC answered success without a report id")
        return answer.report_id

    def upload(self, report_id: str, name: str, content: bytes, content_type: str) -> Answer:
        answer = self._call(
            "upload",
            "POST",
            "/upload",
            data={"id": report_id},
            files={"file": (name, content, content_type)},
            repeatable=False,
        )
        if not answer.file_id:
            raise CyberTiplineError("upload", "NCMEC answered success without a file id")
        return answer

    def fileinfo(self, details: bytes) -> Answer:
        return self._call(
            "fileinfo", "POST", "/fileinfo", data=details, headers=_XML, repeatable=True
        )

    def finish(self, report_id: str) -> Answer:
        return self._call("finish", "POST", "/finish", data={"id": report_id}, repeatable=True)

    def retract(self, report_id: str) -> Answer:
        return self._call("retract", "POST", "/retract", data={"id": report_id}, repeatable=True)

    # --- one exchange, with retries -------------------------------------------------------

    def _call(
        self, step: str, method: str, path: str, *, repeatable: bool, **kwargs: object
    ) -> Answer:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, self.url + path, auth=self.auth, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                never_sent = _never_sent(exc)
                logger.warning(
                    "ncmec %s attempt=%d error=%s never_sent=%s",
                    step,
                    attempt,
                    type(exc).__name__,
                    never_sent,
                )
                if (repeatable or never_sent) and attempt <= self.retries:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise CyberTiplineUnreachable(
                    step,
                    _network_words(exc, attempt),
                    maybe_delivered=not never_sent,
                ) from None
            if response.status_code >= 500:
                logger.warning("ncmec %s attempt=%d http=%d", step, attempt, response.status_code)
                if repeatable and attempt <= self.retries:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise CyberTiplineUnreachable(
                    step,
                    f"NCMEC answered HTTP {response.status_code} (a server error) "
                    f"after {attempt} attempt(s)",
                    maybe_delivered=True,
                )
            return self._answer(step, response)

    def _answer(self, step: str, response: requests.Response) -> Answer:
        if response.status_code == 401:
            raise CyberTiplineError(
                step,
                "NCMEC refused the credentials (HTTP 401): check NCMEC_USERNAME and NCMEC_PASSWORD",
            )
        try:
            answer = parse_answer(response.content)
        except Exception:  # anything unreadable is the same problem for the caller
            raise CyberTiplineError(
                step,
                f"NCMEC's answer (HTTP {response.status_code}) is not a response this "
                f"client understands",
            ) from None
        if answer.code != OK:
            words = CODES.get(answer.code, "NCMEC reported an error")
            detail = f": {answer.description}" if answer.description else ""
            raise CyberTiplineError(
                step, f"{words} (code {answer.code}){detail}", response_code=answer.code
            )
        return answer


_XML = {"Content-Type": "text/xml; charset=utf-8"}


def _network_words(exc: requests.RequestException, attempts: int) -> str:
    if isinstance(exc, requests.ReadTimeout):
        what = "no answer in time (read timeout)"
    elif isinstance(exc, requests.ConnectTimeout):
        what = "could not connect in time"
    elif isinstance(exc, requests.ConnectionError):
        what = "the connection failed"
    else:
        what = "the request failed"
    return f"{what} after {attempts} attempt(s) ({type(exc).__name__})"
