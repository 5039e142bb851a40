"""The `aftaleflow` command: database, organisation, demo data, users, server and scheduler."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Body, Case, Membership, Party, Role, User
from workflow.engine import audit, audit_key, migrate, values
from workflow.engine.audit_key import AuditKeyError, load_key
from workflow.engine.db import database_url, make_engine, make_session_factory
from workflow.engine.unit_of_work import unit_of_work


class Context:
    """Lazily opened database shared by the subcommands."""

    def __init__(self, url: str | None) -> None:
        self.url = database_url(url)
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def close(self) -> None:
        """Close the pooled connections (a PostgreSQL server would otherwise see them dropped)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        if not migrate.is_initialised(self.engine):
            raise click.ClickException(
                "Databasen er ikke oprettet endnu. Kør 'aftaleflow init-db' først."
            )
        session = make_session_factory(self.engine)()
        try:
            yield session
        finally:
            session.close()


pass_context = click.make_pass_decorator(Context)


def say(message: str) -> None:
    """Print a progress line."""
    click.echo(f"  {message}")


@click.group()
@click.option(
    "--database-url",
    envvar="AFTALEFLOW_DATABASE_URL",
    help="SQLAlchemy-URL (standard: SQLite-filen var/aftaleflow.db).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Aftaleflow: sager, frister og beslutninger i sundhedsaftalen."""
    ctx.obj = Context(database_url)
    ctx.call_on_close(ctx.obj.close)


@main.command("init-db")
@pass_context
def init_db(context: Context) -> None:
    """Create or upgrade the database schema (Alembic migrations to head)."""
    click.echo(f"Opgraderer databasen ({context.engine.url.render_as_string()}) …")
    try:
        migrate.upgrade(context.engine)
        load_key()
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Databasen er klar.")
    click.echo(
        f"Revisionsnøglen ligger i {audit_key.describe()}; tag sikkerhedskopi af den adskilt fra "
        "databasen – uden den kan revisionssporet ikke kontrolleres."
    )


@main.command()
@click.option(
    "--update",
    is_flag=True,
    help="Overskriv eksisterende rækker med datafilens værdier (ellers bevares rettelser).",
)
@pass_context
def seed(context: Context, update: bool) -> None:
    """Load the real organisation, goals and process definitions (idempotent)."""
    from workflow.organisation import seed as seeding

    click.echo("Indlæser organisationen …")
    with context.session() as session:
        report = seeding.run(session, progress=say, update=update)
    click.echo(report.summary())


@main.command()
@pass_context
def demo(context: Context) -> None:
    """Load demo users, meetings and cases in every state of every process (idempotent)."""
    from workflow import demo as demo_data

    click.echo("Indlæser demodata …")
    with context.session() as session:
        try:
            report = demo_data.run(session, progress=say)
        except demo_data.DemoError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    click.echo(
        "Demoen kører på sin egen dato: start med 'aftaleflow serve --demo-clock "
        "--with-scheduler' eller 'aftaleflow scheduler --demo-clock'."
    )
    if report.logins:
        click.echo("\nDemo-logins:")
        for email, password, role in report.logins:
            click.echo(f"  {email:<42} {password:<18} {role}")


@main.command("bench-data")
@click.option("--cases", default=100_000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--seed-value", default=14, show_default=True, type=int, help="Tilfældighedsfrø.")
@click.option(
    "--add", is_flag=True, help="Tilføj til en database, der allerede har sager (kun til test)."
)
@pass_context
def bench_data(context: Context, cases: int, seed_value: int, add: bool) -> None:
    """Fill the database with generated cases for benchmarks (never on a real database)."""
    from workflow import volume

    migrate.upgrade(context.engine)
    with context.session() as session:
        existing = session.scalar(select(func.count()).select_from(Case)) or 0
    if existing and not add:
        raise click.ClickException(
            f"Databasen har allerede {existing} sager. Målingsdata hører til en tom database; "
            "brug --add for at tilføje alligevel."
        )
    click.echo(f"Genererer {cases} sager til målinger …")
    report = volume.generate(context.engine, cases, seed_value=seed_value, progress=say)
    click.echo(report.summary())
    # The generator inserts around the ORM, so the search index is built once at the end.
    click.echo("Bygger søgeindekset …")
    _reindex(context, read_files=False)
    click.echo(
        f"Log ind som {volume.CHAIR_EMAIL} eller {volume.SECRETARIAT_EMAIL} med adgangskoden "
        f"'{volume.BENCH_PASSWORD}'."
    )


@main.group("search")
def search_group() -> None:
    """The full-text search index (docs/search.md)."""


def _reindex(context: Context, *, read_files: bool) -> None:
    from workflow.search import operations

    with context.session() as session:
        done = operations.reindex(session, read_files=read_files)
    click.echo(
        f"Søgeindekset er bygget: {done.documents} dokumenter, "
        f"{done.attachments_read} bilags tekst læst."
    )


@search_group.command("reindex")
@click.option(
    "--no-files", is_flag=True, help="Læs ikke bilagenes tekst igen (brug den gemte tekst)."
)
@pass_context
def search_reindex(context: Context, no_files: bool) -> None:
    """Rebuild the search index, reading every attachment's text again (idempotent)."""
    _reindex(context, read_files=not no_files)


@main.group()
def users() -> None:
    """Manage users."""


class BadInput(click.ClickException):
    """Input the command cannot use: said in Danish, exit code 2 (as for a usage error)."""

    exit_code = 2


def _suggestion(word: str, known: list[str]) -> str:
    """' Mente du …?' with the nearest known names, or nothing."""
    import difflib

    starting = [k for k in known if k.casefold().startswith(word.casefold())]
    nearest = difflib.get_close_matches(word, known, n=3, cutoff=0.6)
    close = [f"'{c}'" for c in dict.fromkeys(starting + nearest)][:3]
    if not close:
        return ""
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} eller {close[-1]}"
    return f" Mente du {listed}?"


# The roles' Danish names, as the demo logins use them, are understood too.
DANISH_ROLES = {
    "formand": "chair", "næstformand": "vice_chair", "naestformand": "vice_chair",
    "medlem": "member", "sekretariat": "secretariat", "observatør": "observer",
    "observatoer": "observer",
}  # fmt: skip


def _parse_role(session: Session, spec: str, param: str = "ROLLE") -> tuple[Body, Role]:
    role_name, at, code = spec.partition("@")
    roles = ", ".join(r.value for r in Role)
    if not at or not role_name or not code:
        raise BadInput(
            f"{param} '{spec}' skal have formen rolle@ORGAN, fx chair@TSS eller member@SU-NORD-SOM."
        )
    try:
        word = role_name.strip().lower()
        role = Role(DANISH_ROLES.get(word, word))
    except ValueError:
        raise BadInput(
            f"{param}: ukendt rolle '{role_name}'; brug en af: {roles} (eller formand, "
            "næstformand, medlem, sekretariat, observatør)."
        ) from None
    found = session.scalar(select(Body).where(func.upper(Body.code) == code.strip().upper()))
    if found is None:
        codes = list(session.scalars(select(Body.code).order_by(Body.code)))
        raise BadInput(
            f"Organet '{code}' findes ikke.{_suggestion(code.upper(), codes)} Kendte organer: "
            f"{', '.join(codes) or 'ingen (kør aftaleflow seed)'}."
        )
    return found, role


NO_PARTY = "ingen"


def _parse_party(session: Session, text: str, param: str = "PART") -> Party | None:
    """A party by its code or name, case-insensitively ('ingen' for none)."""
    wanted = text.strip()
    if wanted.lower() == NO_PARTY:
        return None
    parties = list(session.scalars(select(Party).order_by(Party.name)))
    # Compared in Python: SQLite's lower() knows only ASCII, and there are few parties.
    found = next(
        (p for p in parties if wanted.casefold() in (p.code.casefold(), p.name.casefold())), None
    )
    if found is None:
        names = [p.name for p in parties]
        raise BadInput(
            f"Parten '{wanted}' findes ikke.{_suggestion(wanted, names)} Skriv partens navn "
            "eller kode, fx 'Albertslund Kommune' eller KOM-ALBERTSLUND; se 'aftaleflow users "
            "parties'."
        )
    return found


def _user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"Brugeren {email} findes ikke; se 'aftaleflow users list'.")
    return user


def _user_and_role(session: Session, email: str, role: str) -> tuple[User, Body, Role, str]:
    """EMAIL's user and ROLE (role@ORGAN) parsed into its body and role, with the spelling the
    messages use (member@TSS)."""
    user = _user_by_email(session, email)
    body, parsed = _parse_role(session, role)
    return user, body, parsed, f"{parsed.value}@{body.code}"


def _day(value: str | None, param: str) -> date:
    """The date given as `param` (ÅÅÅÅ-MM-DD), or today when it was not given."""
    if value is None:
        return _today()
    try:
        return values.calendar_date(value)
    except values.InvalidValue:
        raise BadInput(
            f"{param} '{value}' er ikke en dato; skriv den som ÅÅÅÅ-MM-DD, fx 2021-05-27."
        ) from None


def _today() -> date:
    from workflow.engine import clock
    from workflow.engine.calendar import local_date

    return local_date(clock.now())


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Fulde navn.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Giv administratorrettigheder.")
@click.option("--role", "roles", multiple=True, help="Rolle som role@ORGAN, fx chair@TSS.")
@click.option(
    "--party", default=None, help="Brugerens part (navn eller kode), fx 'Albertslund Kommune'."
)
@pass_context
def users_create(
    context: Context,
    email: str,
    name: str,
    password: str,
    admin: bool,
    roles: tuple[str, ...],
    party: str | None,
) -> None:
    """Create a user with a password, a party and roles (audited)."""
    from workflow.admin import operations

    if len(password) < 10:
        raise click.BadParameter("adgangskoden skal være mindst 10 tegn", param_hint="--password")
    email = email.strip().lower()
    with context.session() as session:
        if session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
            raise click.ClickException(f"Der findes allerede en bruger med e-mailen {email}.")
        parsed = [_parse_role(session, spec, "--role") for spec in roles]
        found = _parse_party(session, party, "--party") if party is not None else None
        with unit_of_work(session):
            user = operations.create_user(
                session, None, name=name, email=email, locale="da", is_admin=admin,
                password=password, party_id=found.id if found else None,
            )  # fmt: skip
            for body, role in parsed:
                operations.add_membership(
                    session, None, user, body_id=body.id, role=role, since=_today()
                )
    click.echo(f"Brugeren {email} er oprettet.")


@users.command("set-party")
@click.argument("email")
@click.argument("party")
@pass_context
def users_set_party(context: Context, email: str, party: str) -> None:
    """Tie EMAIL's user to PARTY (name or code; 'ingen' for none), so they answer its
    consultations (audited)."""
    from workflow.admin import operations

    with context.session() as session:
        user = _user_by_email(session, email)
        found = _parse_party(session, party)
        if operations.set_user_party(session, None, user, found):
            click.echo(f"{user.email} hører nu til {found.name if found else 'ingen part'}.")
        else:
            click.echo(f"{user.email} hørte allerede til {found.name if found else 'ingen part'}.")


@users.command("add-role")
@click.argument("email")
@click.argument("role")
@click.option("--since", default=None, help="Fra dato (ÅÅÅÅ-MM-DD); standard: i dag.")
@pass_context
def users_add_role(context: Context, email: str, role: str, since: str | None) -> None:
    """Give EMAIL's user ROLE (role@ORGAN, fx member@TSS), or resume an ended one (audited)."""
    from workflow.admin import operations

    start = _day(since, "--since")
    with context.session() as session:
        user, body, parsed, label = _user_and_role(session, email, role)
        added = operations.add_membership(
            session, None, user, body_id=body.id, role=parsed, since=start
        )
        click.echo(f"{user.email} er {'allerede' if added is None else 'nu'} {label}.")


@users.command("end-role")
@click.argument("email")
@click.argument("role")
@click.option("--until", default=None, help="Til og med dato (ÅÅÅÅ-MM-DD); standard: i dag.")
@pass_context
def users_end_role(context: Context, email: str, role: str, until: str | None) -> None:
    """End EMAIL's membership ROLE (role@ORGAN); the row is kept (audited)."""
    from workflow.admin import operations

    end = _day(until, "--until")
    with context.session() as session:
        user, body, parsed, label = _user_and_role(session, email, role)
        membership = session.scalar(
            select(Membership).where(
                Membership.user_id == user.id,
                Membership.body_id == body.id,
                Membership.role == parsed,
            )
        )
        if membership is None or not membership.active:
            raise click.ClickException(f"{user.email} er ikke {label}; se 'aftaleflow users list'.")
        operations.end_membership(session, None, membership, end)
    click.echo(f"{user.email} er ikke længere {label}.")


@users.command("list")
@pass_context
def users_list(context: Context) -> None:
    """List users with their party and active roles."""
    with context.session() as session:
        people = session.scalars(select(User).order_by(User.email)).all()
        roles: dict[int, list[str]] = {}
        for membership, body in session.execute(
            select(Membership, Body)
            .join(Body, Body.id == Membership.body_id)
            .where(Membership.active.is_(True))
            .order_by(Body.code, Membership.role)
        ).tuples():
            roles.setdefault(membership.user_id, []).append(f"{membership.role.value}@{body.code}")
        parties = {p.id: p.name for p in session.scalars(select(Party))}
        for user in people:
            flags = " (admin)" if user.is_admin else ""
            flags += " (deaktiveret)" if not user.active else ""
            party = f"  [{parties[user.party_id]}]" if user.party_id in parties else ""
            click.echo(
                f"{user.email:<42} {user.name}{flags}{party}  {' '.join(roles.get(user.id, []))}"
            )


@users.command("parties")
@pass_context
def users_parties(context: Context) -> None:
    """List the parties a user can belong to: code, kind and name."""
    with context.session() as session:
        for party in session.scalars(select(Party).order_by(Party.kind, Party.name)):
            inactive = " (inaktiv)" if not party.active else ""
            click.echo(f"{party.code:<24} {party.kind.value:<18} {party.name}{inactive}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Antal processer. Over 1: gunicorn med synkrone arbejdere (produktion, kun POSIX); "
    "1: waitress med --threads tråde.",
)
@click.option(
    "--with-scheduler/--without-scheduler",
    default=False,
    help="Kør også planlæggeren i samme proces (kun til demo og én server).",
)
@click.option(
    "--demo-clock",
    is_flag=True,
    help="Lad uret køre fra demodataenes dato (27. maj 2021), så frister ser levende ud.",
)
@pass_context
def serve(
    context: Context,
    host: str,
    port: int,
    threads: int,
    workers: int,
    with_scheduler: bool,
    demo_clock: bool,
) -> None:
    """Serve the web application (waitress, or gunicorn with --workers N), optionally with
    the scheduler."""
    from workflow.startup import collector_paused

    if workers > 1 and with_scheduler:
        raise click.ClickException(
            "Planlæggeren kan kun køre i én proces: kør 'aftaleflow scheduler' for sig, når "
            "serveren har flere arbejdere (--workers)."
        )
    if workers > 1 and sys.platform == "win32":
        raise click.ClickException("--workers kræver et POSIX-system (gunicorn); brug --threads.")
    _configure_logging()
    if demo_clock:
        _run_on_demo_clock(context)
    # Built once, here (with --workers in gunicorn's master, before it forks the workers).
    with collector_paused():
        from workflow.app import ConfigurationError, create_app

        try:
            app = create_app({"DATABASE_URL": context.url, "DEMO_CLOCK": demo_clock})
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
    if workers > 1:
        from workflow.web.workers import serve as serve_workers

        click.echo(
            f"Aftaleflow kører på http://{host}:{port}/ med {workers} arbejdere (stop med Ctrl+C)"
        )
        serve_workers(lambda: app, host=host, port=port, workers=workers)
        return
    from workflow.web.server import serve as serve_app

    if with_scheduler:
        from workflow import scheduler as sweeper

        _refuse_real_clock_on_demo(context, "serve --demo-clock --with-scheduler")

        # One waitress process, so the scheduler starts exactly once (start_background
        # refuses a second start in the same process).
        smtp = _smtp_config()
        sweeper.start_background(context.engine, _scheduler_config(None), smtp)
        click.echo("Planlæggeren kører i samme proces. " + _mail_line(smtp))
    click.echo(f"Aftaleflow kører på http://{host}:{port}/ (stop med Ctrl+C)")
    try:
        serve_app(app, host=host, port=port, threads=threads, ident="Aftaleflow")
    finally:
        if with_scheduler:
            sweeper.stop_background(context.engine)


def _demo_today(context: Context) -> Any:
    """The demo's date: the one its build recorded in the database, else the demo script's."""
    from workflow.demo import load_script, story_today

    if migrate.is_initialised(context.engine):
        with context.session() as session:
            recorded = story_today(session)
        if recorded is not None:
            return recorded
    return load_script().today


def _run_on_demo_clock(context: Context) -> None:
    from workflow.engine import clock
    from workflow.engine.localtime import format_date

    today = _demo_today(context)
    clock.run_from(today)
    click.echo(f"Demotilstand: uret kører fra demoens dato, {format_date(today)}.")


def _refuse_real_clock_on_demo(context: Context, instead: str) -> None:
    """On a demo database the scheduler must not sweep at today's real date: it would write
    overdue and escalation events dated years after the demo's story onto its cases."""
    from workflow.demo import story_today
    from workflow.engine import clock
    from workflow.engine.localtime import format_date

    if clock.is_shifted() or not migrate.is_initialised(context.engine):
        return
    with context.session() as session:
        today = story_today(session)
    if today is None:
        return
    raise click.ClickException(
        f"Databasen indeholder demodata, hvis historie slutter {format_date(today)}. "
        "Planlæggeren ville feje på den rigtige dato og skrive overskredne og eskalerede "
        "frister, dateret år efter historien, på demosagerne. Kør den på demoens ur: "
        f"'aftaleflow {instead}'."
    )


def _configure_logging() -> None:
    """Log as AFTALEFLOW_LOG_FORMAT and AFTALEFLOW_LOG_LEVEL say (workflow.ops.logs)."""
    from workflow.ops import logs

    try:
        logs.configure()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _scheduler_config(interval: int | None) -> Any:
    from dataclasses import replace

    from workflow.scheduler import SchedulerConfig

    try:
        config = SchedulerConfig.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return replace(config, interval=interval) if interval else config


def _smtp_config() -> Any:
    from workflow.notifications.delivery import SmtpConfig

    try:
        return SmtpConfig.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _mail_line(smtp: Any) -> str:
    if smtp is None:
        return (
            "E-mail er slået fra (AFTALEFLOW_SMTP_HOST er ikke sat); beskeder vises kun i "
            "Aftaleflow."
        )
    return f"E-mail sendes via {smtp.describe()}."


@main.command()
@click.option(
    "--interval",
    default=None,
    type=click.IntRange(min=1),
    help="Sekunder mellem fej (standard: AFTALEFLOW_SCHEDULER_INTERVAL eller 60).",
)
@click.option("--once", is_flag=True, help="Fej og lever én gang, og stop.")
@click.option(
    "--demo-clock",
    is_flag=True,
    help="Fej på demodataenes dato (27. maj 2021); kræves på en database med demodata.",
)
@pass_context
def scheduler(context: Context, interval: int | None, once: bool, demo_clock: bool) -> None:
    """Run the scheduler: sweep due deadlines and deliver mail (one process only)."""
    from workflow import scheduler as sweeper
    from workflow.notifications import delivery as notify

    config = _scheduler_config(interval)
    smtp = _smtp_config()
    _configure_logging()
    if demo_clock:
        _run_on_demo_clock(context)
    once_flag = " --once" if once else ""
    _refuse_real_clock_on_demo(context, f"scheduler --demo-clock{once_flag}")
    if once:
        with context.session() as session:
            report = sweeper.sweep(session, config=config)
            click.echo(report.summary())
            if smtp is not None:
                click.echo(notify.deliver_pending(session, smtp).summary())
            else:
                click.echo(_mail_line(smtp))
        return
    if not migrate.is_initialised(context.engine):
        raise click.ClickException(
            "Databasen er ikke oprettet endnu. Kør 'aftaleflow init-db' først."
        )
    click.echo(
        f"Planlæggeren fejer hvert {config.interval:g}. sekund (stop med Ctrl+C). "
        + _mail_line(smtp)
    )
    sweeper.run_blocking(context.engine, config, smtp)


@main.group("audit")
def audit_group() -> None:
    """Check the audit trail."""


_CHECKPOINTS_OPTION = click.option(
    "--checkpoints",
    "checkpoint_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Mappe med kontrolpunkter (standard: AFTALEFLOW_AUDIT_CHECKPOINT_DIR eller "
    "var/audit-checkpoints).",
)


@audit_group.command("verify")
@_CHECKPOINTS_OPTION
@pass_context
def audit_verify(context: Context, checkpoint_dir: str | None) -> None:
    """Verify every chain, each case's state and the checkpoints; exit 1 on any problem."""
    with context.session() as session:
        try:
            report = audit.verify(session, checkpoint_dir)
        except AuditKeyError as exc:
            raise click.ClickException(str(exc)) from None
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(report.checkpoint_line(), err=bool(report.problems))
    if report.problems:
        click.echo(report.summary(), err=True)
        sys.exit(1)
    click.echo(report.summary())


@audit_group.command("checkpoint")
@_CHECKPOINTS_OPTION
@pass_context
def audit_checkpoint(context: Context, checkpoint_dir: str | None) -> None:
    """Append a signed checkpoint of every chain's head to the checkpoint file."""
    from workflow.engine import checkpoints

    with context.session() as session:
        try:
            path, checkpoint = checkpoints.write(session, checkpoint_dir)
        except AuditKeyError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(
                f"Kontrolpunktet kunne ikke skrives: {exc}. Tjek at mappen findes og kan skrives."
            ) from None
    click.echo(
        f"Kontrolpunkt skrevet i {path}: {len(checkpoint.cases)} sager, {checkpoint.events} "
        f"hændelser og {checkpoint.admin.seq if checkpoint.admin else 0} administrative poster."
    )


@main.group("record")
def record_group() -> None:
    """Case records (sagsakter) for journalisation."""


@record_group.command("verify")
@click.argument("zip_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Revisionsnøglen: så kontrolleres også hver hændelses segl (HMAC), ikke kun kæden.",
)
def record_verify(zip_file: str, key_file: str | None) -> None:
    """Check a case record ZIP on its own: checksums, files and the events' chain; exit 1 on
    any problem. Needs no database."""
    from workflow.cases import record_verify as checker

    key = None
    if key_file is not None:
        try:
            key = audit_key.read_key_file(Path(key_file))
        except AuditKeyError as exc:
            raise click.ClickException(str(exc)) from None
    report = checker.verify(zip_file, key)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.problems:
        click.echo(report.summary(), err=True)
        sys.exit(1)
    click.echo(report.summary())


@main.group()
def processes() -> None:
    """Process definitions and their versions."""


@processes.command("list")
@pass_context
def processes_list(context: Context) -> None:
    """List stored process versions and how many cases follow each."""
    from sqlalchemy import func

    from models import ProcessVersion

    with context.session() as session:
        counts: dict[tuple[str, int], int] = {
            (p, v): n
            for p, v, n in session.execute(
                select(Case.process, Case.process_version, func.count()).group_by(
                    Case.process, Case.process_version
                )
            ).tuples()
        }
        for row in session.scalars(
            select(ProcessVersion).order_by(ProcessVersion.name, ProcessVersion.version)
        ):
            cases = counts.get((row.name, row.version), 0)
            click.echo(f"{row.name:<24} version {row.version:<3} {cases:>5} sager")


@processes.command("sync")
@pass_context
def processes_sync(context: Context) -> None:
    """Store changed definition files in states/ as new versions."""
    from workflow.engine.processes import registry

    with context.session() as session, unit_of_work(session):
        created = registry.sync(session)
    for row in created:
        click.echo(f"Ny version: {row.name} version {row.version}")
    if not created:
        click.echo("Ingen ændrede procesdefinitioner.")


@processes.command("diagram")
@click.argument("process")
@click.option("--current", default=None, help="Tilstand, der fremhæves.")
@click.option("--lang", type=click.Choice(["da", "en"]), default="da", show_default=True)
@click.option("--version", "version", type=int, default=None, help="Standard: nyeste version.")
@pass_context
def processes_diagram(
    context: Context, process: str, current: str | None, lang: str, version: int | None
) -> None:
    """Write a process's diagram as SVG to standard output."""
    from workflow.engine.diagram import render_svg
    from workflow.engine.processes import UnknownProcess, registry

    with context.session() as session:
        try:
            definition = (
                registry.get(session, process, version)
                if version is not None
                else registry.latest(session, process)
            )
        except UnknownProcess as exc:
            raise click.ClickException(str(exc)) from None
    try:
        click.echo(render_svg(definition, current=current, lang=lang))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@processes.command("migrate")
@click.argument("process")
@click.option("--from", "from_version", type=int, required=True)
@click.option("--to", "to_version", type=int, required=True)
@click.option("--map", "mappings", multiple=True, help="Tilstandsafbildning gammel=ny.")
@click.option("--actor", required=True, help="E-mail på den administrator, der flytter sagerne.")
@click.option("--comment", default="", help="Begrundelse, skrives i sagernes historik.")
@pass_context
def processes_migrate(
    context: Context,
    process: str,
    from_version: int,
    to_version: int,
    mappings: tuple[str, ...],
    actor: str,
    comment: str,
) -> None:
    """Move every case on one version of a process to another, through a state mapping."""
    from workflow.engine import core as engine
    from workflow.engine.errors import WorkflowError

    state_map: dict[str, str] = {}
    for mapping in mappings:
        old, sep, new = mapping.partition("=")
        if not sep:
            raise click.BadParameter(f"'{mapping}' skal have formen gammel=ny", param_hint="--map")
        state_map[old.strip()] = new.strip()
    with context.session() as session:
        admin = session.scalar(select(User).where(User.email == actor.strip().lower()))
        if admin is None:
            raise click.ClickException(f"Ingen bruger med e-mailen {actor}.")
        cases = list(
            session.scalars(
                select(Case).where(Case.process == process, Case.process_version == from_version)
            )
        )
        moved = 0
        with click.progressbar(cases, label="Flytter sager") as bar:
            for case in bar:
                try:
                    engine.migrate_case_version(case, to_version, state_map, admin, comment)
                    moved += 1
                except WorkflowError as exc:
                    click.echo(f"\nSag {case.id} ikke flyttet: {exc.message}", err=True)
    click.echo(f"{moved} af {len(cases)} sager flyttet til version {to_version}.")


@main.command("reorganise")
@click.argument("plan")
@click.option("--dry-run", is_flag=True, help="Vis hvad planen flytter, uden at ændre noget.")
@click.option("--actor", default=None, help="E-mail på den administrator, der gennemfører planen.")
@pass_context
def reorganise_command(context: Context, plan: str, dry_run: bool, actor: str | None) -> None:
    """Apply a reorganisation plan (data/reorganisations/PLAN.toml), or show it (--dry-run)."""
    from workflow.engine.errors import WorkflowError
    from workflow.organisation import operations as organisation
    from workflow.organisation import reorganise

    try:
        loaded = reorganise.load_plan(reorganise.find_plan(plan))
    except reorganise.PlanError as exc:
        raise click.ClickException(exc.message) from None
    with context.session() as session:
        if dry_run:
            result = reorganise.preview(session, loaded)
            for line in reorganise.describe(result):
                click.echo(line)
            if result.gaps and not result.already_applied:
                sys.exit(1)
            return
        if actor is None:
            raise click.UsageError("Angiv --actor (en administrator) eller --dry-run.")
        admin = session.scalar(select(User).where(User.email == actor.strip().lower()))
        if admin is None:
            raise click.ClickException(f"Ingen bruger med e-mailen {actor}.")
        try:
            applied = organisation.apply_plan(session, loaded, admin)
        except WorkflowError as exc:
            raise click.ClickException(exc.message) from None
    if applied.already_applied:
        click.echo(f"Planen '{loaded.name}' er allerede gennemført; intet ændret.")
        return
    click.echo(
        f"Planen '{loaded.name}' er gennemført: {applied.cases_moved} sager flyttet, "
        f"{applied.memberships_carried} medlemskaber videreført, {applied.memberships_ended} "
        f"afsluttet, {applied.meetings_cancelled} møder aflyst, {applied.series_started} nye "
        "mødeserier."
    )


def run(argv: list[str] | None = None) -> Any:
    """Run the command line (for tests)."""
    return main.main(args=argv, standalone_mode=False)


@main.group("indicators")
def indicators_group() -> None:
    """Indikatorer: registret og de årlige værdier."""


@indicators_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@pass_context
def indicators_import(context: Context, file: str) -> None:
    """Indlæs årlige værdier fra en CSV-fil (indikator;år;område;værdi) – alt eller intet."""
    from pathlib import Path

    from workflow.implementation import indicators

    raw = Path(file).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # a file saved by Danish Excel
    with context.session() as session:
        try:
            result = indicators.import_csv(session, text)
        except indicators.IndicatorImportError as exc:
            click.echo(
                "Filen blev ikke indlæst – intet er gemt. Ret fejlene, og prøv igen:", err=True
            )
            for error in exc.errors:
                click.echo(f"  {error}", err=True)
            raise SystemExit(1) from None
    click.echo(result.summary())


@indicators_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option(
    "--direction",
    type=click.Choice(["up", "down"]),
    required=True,
    help="up: højere er bedre; down: lavere er bedre.",
)
@click.option("--definition", default="", help="Hvordan indikatoren opgøres.")
@click.option("--source", "data_source", default="", help="Datakilde, fx eSundhed.")
@click.option("--unit", default="", help="Enhed, fx % eller pr. 1.000 borgere.")
@click.option("--goal", "goal", type=int, default=None, help="Nationalt mål nr. 1-8.")
@pass_context
def indicators_add(
    context: Context,
    code: str,
    name: str,
    direction: str,
    definition: str,
    data_source: str,
    unit: str,
    goal: int | None,
) -> None:
    """Opret eller ret en indikator i registret."""
    from workflow.engine.errors import WorkflowError
    from workflow.implementation import indicators

    with context.session() as session:
        try:
            indicator = indicators.define_indicator(
                session,
                code=code,
                name=name,
                direction=direction,
                definition=definition,
                data_source=data_source,
                unit=unit,
                national_goal_number=goal,
            )
        except WorkflowError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"Indikatoren {indicator.code} er gemt.")


@main.group("tokens")
def tokens_group() -> None:
    """Manage personal API tokens (stored hashed; revoked, never deleted)."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="Hvad nøglen bruges til, fx 'ESDH-integration'.")
@pass_context
def tokens_create(context: Context, email: str, name: str) -> None:
    """Create a token for EMAIL and print it once."""
    from sqlalchemy import func

    from workflow.auth import tokens as api_tokens

    with context.session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"Brugeren {email} findes ikke; se 'aftaleflow users list'.")
        try:
            issued = api_tokens.create_token(session, user, name)
        except api_tokens.TokenError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"API-nøgle nr. {issued.token.id} til {user.email}:")
        click.echo(issued.plain)
        click.echo("Gem nøglen nu: den vises ikke igen. Send den som 'Authorization: Bearer …'.")


@tokens_group.command("list")
@pass_context
def tokens_list(context: Context) -> None:
    """List every token: id, user, name, prefix, created, last used, revoked."""
    from workflow.auth import tokens as api_tokens

    with context.session() as session:
        for token in api_tokens.tokens_of(session):
            used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "-"
            state = (
                f"tilbagekaldt {token.revoked_at.isoformat(timespec='minutes')}"
                if token.revoked_at
                else "aktiv"
            )
            click.echo(
                f"{token.id:>5}  {token.user.email:<36} {token.prefix}…  {token.name or '-':<24} "
                f"oprettet {token.created_at.isoformat(timespec='minutes')}  brugt {used}  {state}"
            )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@pass_context
def tokens_revoke(context: Context, token_id: int) -> None:
    """Revoke token TOKEN_ID; it stops working at once."""
    from models import ApiToken
    from workflow.auth import tokens as api_tokens

    with context.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"API-nøgle nr. {token_id} findes ikke; se 'tokens list'.")
        if api_tokens.revoke_token(session, token):
            click.echo(f"API-nøgle nr. {token_id} ({token.user.email}) er tilbagekaldt.")
        else:
            click.echo(f"API-nøgle nr. {token_id} var allerede tilbagekaldt.")


# Exit code of a restore that worked but left the schema at another revision than this code's.
RESTORED_NOT_AT_HEAD = 3


def _attachments_option(function: Any) -> Any:
    return click.option(
        "--attachments-dir",
        envvar="AFTALEFLOW_ATTACHMENTS_DIR",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Bilagsmappen (standard: AFTALEFLOW_ATTACHMENTS_DIR eller var/attachments).",
    )(function)


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_attachments_option
@pass_context
def backup_command(context: Context, file: Path, attachments_dir: Path | None) -> None:
    """Tag backup af databasen og bilagene til FILE (et tar-arkiv), mens appen kører.

    SQLite kopieres med SQLites online-backup, PostgreSQL med pg_dump. Nøglerne (sessions- og
    revisionsnøglen) kommer ikke med: gem dem for sig. Exit 0: backuppen er skrevet; 1: fejl
    (en eksisterende FILE er urørt).
    """
    from workflow import backup
    from workflow.cases.attachments import storage_dir

    click.echo(f"Tager backup af {context.engine.url.render_as_string()} …")
    try:
        report = backup.create_backup(context.engine, file, storage_dir(attachments_dir))
    except backup.BackupError as exc:
        raise click.ClickException(f"Backuppen blev ikke lavet: {exc}") from None
    click.echo(report.summary())


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overskriv en database og bilag, der har data.")
@_attachments_option
@pass_context
def restore_command(
    context: Context, file: Path, force: bool, attachments_dir: Path | None
) -> None:
    """Gendan databasen og bilagene fra en backup lavet med 'aftaleflow backup'.

    Stop webserverne og planlæggeren først. En database med data overskrives kun med --force.
    Exit 0: gendannet og på denne versions skema; 1: fejl eller afvist (intet ændret);
    3: gendannet, men skemaet er på en anden version (kør 'aftaleflow init-db').
    """
    from workflow import backup
    from workflow.cases.attachments import storage_dir

    click.echo(f"Gendanner {file} i {context.engine.url.render_as_string()} …")
    try:
        report = backup.restore_backup(
            context.engine, file, storage_dir(attachments_dir), force=force
        )
    except backup.BackupError as exc:
        raise click.ClickException(f"Intet er gendannet: {exc}") from None
    click.echo(report.summary())
    if report.at_head:
        click.echo("Databasens skema passer til denne version af Aftaleflow.")
        return
    found = ", ".join(sorted(report.current)) or "ingen"
    wanted = ", ".join(sorted(report.heads))
    click.echo(
        f"Databasens skema er på version {found}, denne version af Aftaleflow bruger {wanted}. "
        "Kør 'aftaleflow init-db' for at opgradere (er backuppen fra en nyere version, så "
        "opgradér Aftaleflow i stedet).",
        err=True,
    )
    sys.exit(RESTORED_NOT_AT_HEAD)


@main.command("whatif")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 60),
              help="Genafspil sagerne oprettet de seneste N måneder.")  # fmt: skip
@click.option("--draft", "draft_file", type=click.Path(exists=True, dir_okay=False),
              help="En kladde til en procesdefinition (TOML), som states/*.toml.")  # fmt: skip
@click.option("--version", "stored",
              help="En gemt procesversion, fx signature_initiative:2, eller procesdesignerens "
                   "kladde, fx signature_initiative:kladde.")  # fmt: skip
@click.option("--material", multiple=True, metavar="ORGAN=DAGE",
              help="En anden materialefrist, fx TSS=4 (dage talt som organet tæller).")  # fmt: skip
@click.option("--meetings", multiple=True, metavar="ORGAN=DATO,DATO",
              help="En anden mødekalender, fx TSS=2026-01-08,2026-02-05.")  # fmt: skip
@pass_context
def whatif(
    context: Context,
    months: int,
    draft_file: str | None,
    stored: str | None,
    material: tuple[str, ...],
    meetings: tuple[str, ...],
) -> None:
    """Replay the last months' cases against a draft, a calendar or a materialefrist."""
    from workflow.engine import clock
    from workflow.engine.processes import registry
    from workflow.whatif import queries, scenario, text

    def pairs(specs: tuple[str, ...], option: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for spec in specs:
            code, sign, value = spec.partition("=")
            if not sign or not code.strip():
                raise BadInput(f"{option}: skriv ORGAN=VÆRDI, ikke '{spec}'.")
            found[code.strip()] = value
        return found

    with context.session() as session:
        known = {b.code for b in session.scalars(select(Body))}
        material_specs = pairs(material, "--material")
        calendar_specs = pairs(meetings, "--meetings")
        for code in (*material_specs, *calendar_specs):
            if code not in known:
                raise BadInput(f"Intet organ med koden '{code}'.{_suggestion(code, sorted(known))}")
        try:
            draft = None
            if draft_file is not None:
                source = Path(draft_file).read_text(encoding="utf-8")
                draft = scenario.parse_draft(source, registry.names(session))
            elif stored is not None:
                draft = queries.stored_version(session, stored)
            changes = scenario.Scenario(
                months=months,
                draft=draft,
                material_days={
                    c: scenario.parse_material_days(v) for c, v in material_specs.items()
                },
                calendars={c: scenario.parse_calendar(v) for c, v in calendar_specs.items()},
            )
        except scenario.ScenarioError as exc:
            raise BadInput(exc.message_da) from None
        result = queries.compare(session, changes, clock.now())
    click.echo(text.report(result))
