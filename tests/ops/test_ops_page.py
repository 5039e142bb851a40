"""The operations page for administrators (/admin/drift), in Danish and English: the checks
behind /readyz, the scheduler's last sweeps, the outbox and its failed deliveries with retry,
the audit trail's checkpoint and verification, the database and the version."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import workflow
from models import AdminAuditEntry, Notification
from workflow import scheduler
from workflow.engine import clock
from workflow.engine.outbox import enqueue
from workflow.scheduler import SchedulerConfig


def _given_up(session, user, subject: str = "Påmindelse: Fælles akutforløb") -> Notification:
    item = enqueue(
        session, key=f"ops:{subject}", recipient_id=user.id, kind="reminder", subject=subject,
        body="Fristen nærmer sig.", send_after=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    assert item is not None
    item.attempts = 3
    item.failed_at = clock.now()
    item.last_error = "Mailserveren svarede 550: mailbox unavailable"
    session.commit()
    return item


def test_only_administrators_see_the_page(client, logged_in, make_app):
    anonymous = make_app().test_client().get("/admin/drift")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    logged_in("secretariat@TSS")
    refused = client.get("/admin/drift")
    assert refused.status_code == 403
    assert "Driftssiden er for administratorer" in refused.get_data(as_text=True)
    assert client.post("/admin/drift/revision").status_code == 403


def test_the_admin_menu_links_to_the_page(client, logged_in):
    logged_in(is_admin=True)
    assert 'href="/admin/drift"' in client.get("/admin").get_data(as_text=True)


def test_the_page_shows_a_stopped_scheduler_and_an_empty_outbox(client, logged_in, text_of):
    logged_in(is_admin=True)
    response = client.get("/admin/drift")
    assert response.status_code == 200
    page = text_of(response)
    assert "Ikke klar: mindst én kontrol fejler." in page
    assert "Planlæggeren fejer Nej" in page
    assert "Databasen svarer Ja" in page
    assert "Migreret til nyeste version Ja" in page
    assert "Planlæggeren har ikke fejet endnu." in page
    assert "Alle beskeder er leveret eller på vej." in page
    assert "Planlæggeren har ikke skrevet et kontrolpunkt endnu." in page
    assert f"Aftaleflow {workflow.__version__} (Python" in page


def test_the_page_shows_the_last_sweeps_and_the_checkpoint(client, logged_in, session, text_of):
    scheduler.sweep(session, config=SchedulerConfig())
    scheduler.checkpoint_daily(session, config=SchedulerConfig())
    clock.set_time(clock.now() + timedelta(minutes=2))
    logged_in(is_admin=True)
    page = text_of(client.get("/admin/drift"))
    assert "Klar: databasen svarer, er migreret til nyeste version, og planlæggeren fejer." in page
    assert "Seneste fejning 1. september 2020 kl. 10:00 (for 2 minutter siden)" in page
    assert "Grænse for hjerteslag 3 minutter" in page
    assert "Seneste fejninger, nyeste først" in page
    assert (
        "frister set, 0 påmindelser, 0 overskredne, 0 eskaleringer, 0 oversigter (fuld fejning)"
        in page
    )
    assert "Seneste daglige kontrolpunkt 1. september 2020 kl. 10:00" in page


def test_a_failed_delivery_is_listed_and_sent_again_from_the_page(
    client, logged_in, make_user, session, text_of
):
    recipient = make_user(name="Mette Mail")
    item = _given_up(session, recipient)
    admin = logged_in(is_admin=True)
    page = text_of(client.get("/admin/drift"))
    assert "Opgivet efter gentagne forsøg 1" in page
    assert f"Mette Mail ({recipient.email}) Påmindelse: Fælles akutforløb" in page
    assert "Mailserveren svarede 550: mailbox unavailable" in page
    html = client.get("/admin/drift").get_data(as_text=True)
    action = f'action="/beskeder/{item.id}/send-igen?tilbage=drift"'
    assert action in html

    response = client.post(f"/beskeder/{item.id}/send-igen?tilbage=drift")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/drift#fejlede"
    session.expire_all()
    again = session.get(Notification, item.id)
    assert again is not None and again.failed_at is None and again.attempts == 0
    entry = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "notification_retried")
    )
    assert entry is not None and entry.actor_id == admin.id
    page = text_of(client.get("/admin/drift"))
    assert "Beskeden til Mette Mail er sat til at blive sendt igen." in page
    assert "Venter på at blive sendt 1" in page


def test_the_audit_trail_is_verified_on_request(client, logged_in, make_case, text_of):
    make_case()
    logged_in(is_admin=True)
    page = text_of(client.post("/admin/drift/revision"))
    assert "Revisionssporet er intakt:" in page
    assert "hændelser i" in page and "administrative poster kontrolleret." in page
    assert "Intet kontrolpunkt fundet i kontrolpunktsmappen" in page


def test_the_verification_needs_its_form_token(make_app, make_login_user, password):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    admin = make_login_user(is_admin=True)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": admin.email, "password": password, "csrf_token": token})
    assert client.post("/admin/drift/revision").status_code == 400


def test_the_page_reads_in_english(client, logged_in, make_user, session, text_of):
    _given_up(session, make_user(name="Mette Mail"))
    scheduler.sweep(session, config=SchedulerConfig())
    logged_in(is_admin=True)
    client.post("/sprog", data={"sprog": "en", "tilbage": "/admin/drift"})
    page = text_of(client.get("/admin/drift"))
    assert "<h1>" not in page
    for words in (
        "Operations",
        "Ready: the database answers, is migrated to the newest version, and the scheduler sweeps.",
        "The scheduler",
        "Heartbeat limit 3 minutes",
        "deadlines examined, 0 reminders, 0 overdue, 0 escalations, 0 digests (full sweep)",
        "The outbox",
        "Given up after repeated attempts 1",
        "The audit trail",
        "Verify the audit trail now",
        "Database and version",
    ):
        assert words in page, words
    for danish in ("Planlæggeren", "Udbakken", "Revisionssporet", "Seneste fejning"):
        assert danish not in page, danish


def test_the_page_shows_an_approved_plan_the_scheduler_could_not_apply(
    client, logged_in, session, text_of, tmp_path
):
    (tmp_path / "lille-plan.toml").write_text(
        'name = "lille-plan"\neffective = 2020-09-01\napproved = true\n'
        'approved_by = "ingen@eksempel.dk"\n',
        encoding="utf-8",
    )
    report = scheduler.sweep(session, config=SchedulerConfig(plans_dir=str(tmp_path)))
    assert report.plans_refused == ["lille-plan"]
    logged_in(is_admin=True)
    page = text_of(client.get("/admin/drift"))
    assert "Godkendte reorganiseringsplaner" in page
    assert "lille-plan 1. september 2020 kl. 10:00 Ikke gennemført" in page
    assert "approved_by 'ingen@eksempel.dk' er ikke en aktiv administrator" in page
