"""Logs: one request id followed from the web request to its access-log line, its audit event
and the outbox rows it caused; JSON when configured, readable text by default; and a scan of
everything logged during a busy run finds no e-mail address, password, token or CPR number."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from support.formandskab import proposed_by_co_chair

from models import AdminAuditEntry, CaseEvent, Notification
from workflow import scheduler
from workflow.auth import tokens
from workflow.engine import request_id
from workflow.notifications.delivery import SmtpConfig, SmtpSecurity, deliver_pending
from workflow.ops import logs
from workflow.scheduler import SchedulerConfig

ID = "lb-7f3a9c2e-0001"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Our handler on the root logger, writing JSON lines to a buffer (removed afterwards)."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure({"AFTALEFLOW_LOG_FORMAT": "json"}, stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_one_request_id_runs_from_the_request_to_its_audit_event_and_outbox_rows(
    client, logged_in, make_case, make_user, session, log_lines
):
    case = make_case()
    make_user("member@SU-NORD-SOM")  # hears of the move: an outbox row
    chair = logged_in("chair@SU-NORD-SOM")
    proposed_by_co_chair(case, "submit", chair)  # the request is the other co-chair's consent
    response = client.post(
        f"/sager/{case.id}/handlinger/submit",
        data={"expected_version": str(case.version)},
        headers={"X-Request-ID": ID},
    )
    assert response.status_code == 303
    assert response.headers["X-Request-ID"] == ID

    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "submit")
    )
    assert event is not None and event.request_id == ID
    caused = session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.request_id == ID)
    ).all()
    assert caused, "the move's notices carry the request's id"
    earlier = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "create")
    )
    assert earlier is not None and earlier.request_id != ID

    access = [e for e in _entries(log_lines) if e["logger"] == "aftaleflow.access"]
    mine = [e for e in access if e["request_id"] == ID]
    assert len(mine) == 1
    assert mine[0]["route"] == "/sager/<int:case_id>/handlinger/<trigger>"
    assert mine[0]["status"] == 303
    assert mine[0]["method"] == "POST"
    assert f"/sager/{case.id}/" not in mine[0]["message"]  # the pattern, not the path as sent


def test_an_admin_change_carries_the_request_id_too(client, logged_in, session, make_user):
    logged_in(is_admin=True)
    user = make_user()
    response = client.post(f"/admin/brugere/{user.id}/deaktiver", headers={"X-Request-ID": ID})
    assert response.status_code in (302, 303), response.status_code
    entry = session.scalar(select(AdminAuditEntry).order_by(AdminAuditEntry.seq.desc()).limit(1))
    assert entry is not None and entry.request_id == ID


def test_every_response_carries_an_id_and_a_bad_or_untrusted_one_is_replaced(make_app):
    client = make_app().test_client()
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    for bad in ("kort", "to ord med mellemrum", "x" * 65, "id\u2028linje"):
        answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert answered != bad and re.fullmatch(r"[0-9a-f]{32}", answered)
    untrusting = make_app(TRUST_REQUEST_ID=False).test_client()
    assert untrusting.get("/healthz", headers={"X-Request-ID": ID}).headers["X-Request-ID"] != ID


def test_text_is_the_default_and_carries_the_id():
    stream = io.StringIO()
    handler = logs.make_handler(stream, logs.log_format({}))
    record = logging.LogRecord("workflow.x", logging.INFO, __file__, 1, "sweep: %s", ("ok",), None)
    with request_id.bound("sweep-0123456789"):
        handler.handle(record)
    line = stream.getvalue()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO workflow.x \[sweep-0123456789\] "
                    r"sweep: ok$", line.strip())  # fmt: skip


def test_a_wrong_log_setting_is_explained():
    with pytest.raises(ValueError, match="AFTALEFLOW_LOG_FORMAT skal være text eller json"):
        logs.log_format({"AFTALEFLOW_LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="AFTALEFLOW_LOG_LEVEL skal være DEBUG"):
        logs.log_level({"AFTALEFLOW_LOG_LEVEL": "snakkesalig"})


def test_the_scheduler_s_jobs_tag_what_they_write(session, make_case, body):
    from datetime import timedelta

    from models import Deadline, DeadlineKind
    from workflow.engine import clock

    case = make_case(state="at_tss")
    session.add(
        Deadline(case_id=case.id, kind=DeadlineKind.STATE, state=case.state,
                 body_id=body("TSS").id, due_at=clock.now() - timedelta(days=1),
                 reminder_days=[], created_at=clock.now())
    )  # fmt: skip
    session.commit()
    with request_id.bound(prefix="sweep-") as job:
        scheduler.sweep(session, config=SchedulerConfig())
    overdue = session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == "deadline_overdue"
        )
    )
    assert overdue is not None and overdue.request_id == job and job.startswith("sweep-")


def test_the_scrubber_hides_what_must_not_be_logged():
    line = (
        "login anne.hansen@regionh.dk password=hemmelig123 token: abc Authorization: Bearer "
        "af_x9y8 cpr 010203-1234 og 0102031234 url postgresql://app:pw@db/aftaleflow"
    )
    cleaned = logs.scrub(line)
    for secret in ("anne.hansen@regionh.dk", "hemmelig123", "abc", "af_x9y8", "010203-1234",
                   "0102031234", ":pw@"):  # fmt: skip
        assert secret not in cleaned
    kept = "request 7f3a0102031234bc 12.5 ms /sager/<int:case_id> 2026-12-06"
    assert logs.scrub(kept) == kept


# --- the scan -----------------------------------------------------------------------------


_TIMING_FIELDS = {"created", "msecs", "relativeCreated", "thread", "process", "taskName"}


class _Everything(logging.Handler):
    """Keeps every record's raw message, before any scrubbing."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):
            return  # the test's own SMTP server (aiosmtpd), not the application
        # The record's own timing fields are numbers whose digits can look like a CPR number
        # (relativeCreated 196459.0301513672); what the application put in the record stays.
        fields = {k: v for k, v in vars(record).items() if k not in _TIMING_FIELDS}
        text = f"{record.name} {record.getMessage()} {json.dumps(fields, default=str)}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def test_a_busy_run_logs_no_personal_data_or_secrets(
    app, client, make_login_user, make_case, make_user, session, password, mail_server, log_lines
):
    raw = _Everything()
    root = logging.getLogger()
    root.addHandler(raw)
    root.setLevel(logging.DEBUG)
    try:
        chair = make_login_user("chair@SU-NORD-SOM", name="Anne Hansen")
        member = make_user("member@SU-NORD-SOM", name="Bo Jensen")
        member.email = "bo jensen@eksempel.dk"  # a broken address: its delivery fails
        session.commit()
        client.post("/login", data={"email": chair.email, "password": "forkert-" + password})
        client.post("/login", data={"email": chair.email, "password": password})
        case = make_case(title="Borger 010203-1234 og hans forløb")
        proposed_by_co_chair(case, "submit", chair)  # the post is the other co-chair's consent
        client.post(
            f"/sager/{case.id}/handlinger/submit",
            data={"expected_version": str(case.version), "comment": "Ring til anne@eksempel.dk"},
        )
        app.test_client().post("/glemt-adgangskode", data={"email": chair.email})
        issued = tokens.create_token(session, chair, "drift")
        client.get("/api/v1/sager", headers={"Authorization": f"Bearer {issued.plain}"})
        client.get(f"/sager?q={chair.email}")
        smtp = SmtpConfig(host="127.0.0.1", port=mail_server.port, security=SmtpSecurity.NONE,
                          timeout=5, permanent_attempts=1)  # fmt: skip
        report = deliver_pending(session, smtp)
        assert report.sent >= 1 and report.failed >= 1
        scheduler.sweep(session, config=SchedulerConfig())
        reset_link = session.scalar(
            select(Notification.body).where(Notification.kind == "password_reset")
        )
    finally:
        root.removeHandler(raw)
    assert reset_link is not None
    reset_token = re.search(r"/nulstil-adgangskode/(\S+)", reset_link)
    assert reset_token is not None
    ours = [json.dumps(e) for e in _entries(log_lines) if not e["logger"].startswith("mail.log")]
    written = [*raw.lines, *ours]
    assert len(raw.lines) > 5, "the run logged something to scan"
    secrets = [password, issued.plain, reset_token.group(1), "010203-1234",
               "Anne Hansen", "Bo Jensen"]  # fmt: skip
    for text in written:
        assert re.search(logs.EMAIL_PATTERN, text) is None, text
        assert re.search(logs.CPR_PATTERN, text) is None, text
        for secret in secrets:
            assert secret not in text, (secret, text)
