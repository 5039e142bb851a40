"""`aftaleflow users`: a user's party and memberships set on the command line, audited, with
clear Danish errors (and a non-zero exit code) for an unknown party, body or role."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAuditEntry, Body, Membership, Party, User
from workflow.cli import main
from workflow.engine.db import make_engine

pytestmark = pytest.mark.sqlite_only

PASSWORD = "en-lang-adgangskode"


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["--database-url", url, *args])

    invoke.url = url
    assert invoke("init-db").exit_code == 0
    assert invoke("seed").exit_code == 0
    return invoke


def _read(cli, query):
    engine = make_engine(cli.url)
    try:
        with Session(engine) as session:
            return query(session)
    finally:
        engine.dispose()


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AdminAuditEntry.action).order_by(AdminAuditEntry.seq)))


def test_a_user_is_created_with_a_party_and_roles_and_both_are_audited(cli):
    result = cli(
        "users", "create", "Sanne@Albertslund.dk", "--name", "Sanne Holm",
        "--password", PASSWORD, "--party", "albertslund kommune", "--role", "member@SU-SYD-SOM",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    def check(session):
        user = _user(session, "sanne@albertslund.dk")
        assert user.party is not None and user.party.code == "KOM-ALBERTSLUND"
        (membership,) = session.scalars(select(Membership).where(Membership.user_id == user.id))
        assert membership.active and membership.since is not None
        assert _actions(session)[-2:] == ["user_created", "membership_added"]

    _read(cli, check)
    listing = cli("users", "list").output
    line = next(x for x in listing.splitlines() if x.startswith("sanne@albertslund.dk"))
    assert "Albertslund Kommune" in line and "member@SU-SYD-SOM" in line


def test_set_party_add_role_and_end_role(cli):
    cli("users", "create", "lars@example.dk", "--name", "Lars", "--password", PASSWORD)

    moved = cli("users", "set-party", "LARS@example.dk", "KOM-HVIDOVRE")
    assert moved.exit_code == 0, moved.output
    assert "Hvidovre Kommune" in moved.output
    added = cli("users", "add-role", "lars@example.dk", "chair@tss", "--since", "2021-01-04")
    assert added.exit_code == 0, added.output
    again = cli("users", "add-role", "lars@example.dk", "chair@TSS")
    assert again.exit_code == 0 and "allerede" in again.output
    ended = cli("users", "end-role", "lars@example.dk", "chair@TSS", "--until", "2021-06-30")
    assert ended.exit_code == 0, ended.output
    cleared = cli("users", "set-party", "lars@example.dk", "ingen")
    assert cleared.exit_code == 0, cleared.output

    def check(session):
        user = _user(session, "lars@example.dk")
        assert user.party_id is None
        tss = session.scalar(select(Body).where(Body.code == "TSS"))
        membership = session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.body_id == tss.id)
        )
        assert not membership.active
        assert (str(membership.since), str(membership.until)) == ("2021-01-04", "2021-06-30")
        hvidovre = session.scalar(select(Party).where(Party.code == "KOM-HVIDOVRE"))
        party_sets = session.scalars(
            select(AdminAuditEntry).where(AdminAuditEntry.action == "user_party_set")
        ).all()
        assert [e.data["after"]["party_id"] for e in party_sets] == [hvidovre.id, None]
        assert all(e.actor_id is None for e in party_sets)  # made on the command line
        assert _actions(session)[-3:-1] == ["membership_added", "membership_ended"]

    _read(cli, check)
    listing = cli("users", "list").output
    assert "chair@TSS" not in listing  # an ended role is no longer listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("set-party", "lars@example.dk", "Albertslun Kommune"),
            "Parten 'Albertslun Kommune' findes ikke",
        ),
        (("set-party", "lars@example.dk", "Albertslun Kommune"), "Mente du 'Albertslund Kommune'"),
        (("add-role", "lars@example.dk", "chair@TSX"), "Organet 'TSX' findes ikke"),
        (("add-role", "lars@example.dk", "boss@TSS"), "ukendt rolle 'boss'"),
        (("add-role", "lars@example.dk", "TSS"), "skal have formen rolle@ORGAN"),
        (("add-role", "lars@example.dk", "chair@TSS", "--since", "31-12-2021"), "ÅÅÅÅ-MM-DD"),
        (("end-role", "lars@example.dk", "member@SKU"), "er ikke member@SKU"),
        (
            ("set-party", "ukendt@example.dk", "KOM-HVIDOVRE"),
            "Brugeren ukendt@example.dk findes ikke",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(cli, args, message):
    cli("users", "create", "lars@example.dk", "--name", "Lars", "--password", PASSWORD)
    before = _read(cli, _actions)
    result = cli("users", *args)
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert _read(cli, _actions) == before


def test_an_unknown_party_at_creation_creates_no_user(cli):
    result = cli(
        "users", "create", "x@example.dk", "--name", "X", "--password", PASSWORD,
        "--party", "Atlantis Kommune",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Parten 'Atlantis Kommune' findes ikke" in result.output
    assert _read(cli, lambda s: s.scalar(select(User).where(User.email == "x@example.dk"))) is None


def test_the_parties_can_be_listed(cli):
    listing = cli("users", "parties").output
    assert "KOM-ALBERTSLUND" in listing and "municipality" in listing
    assert len([x for x in listing.splitlines() if x.startswith("KOM-")]) == 29
