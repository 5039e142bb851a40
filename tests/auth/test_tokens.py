"""Personal API tokens: hashed, shown once, revocable, never deleted; and the tokens CLI."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from models import AdminAuditEntry, ApiToken
from workflow.auth import tokens
from workflow.cli import main
from workflow.engine import clock


def test_a_token_is_random_stored_hashed_and_audited(session, make_user):
    user = make_user("member@TSS")
    first = tokens.create_token(session, user, "  ESDH  ")
    second = tokens.create_token(session, user)
    assert first.plain != second.plain
    assert first.token.token_hash == hashlib.sha256(first.plain.encode()).hexdigest()
    assert first.token.name == "ESDH"
    assert first.plain.startswith(first.token.prefix)
    audit = session.scalars(
        select(AdminAuditEntry.action).where(AdminAuditEntry.object_type == "api_token")
    ).all()
    assert audit.count("api_token_create") >= 2


def test_authenticate_returns_the_user_and_notes_the_use_once_a_minute(session, make_user):
    user = make_user("member@TSS")
    issued = tokens.create_token(session, user)
    assert tokens.authenticate(session, issued.plain) == user
    first_use = issued.token.last_used_at
    assert first_use == clock.now()
    clock.advance(timedelta(seconds=20))
    tokens.authenticate(session, issued.plain)
    assert issued.token.last_used_at == first_use
    clock.advance(timedelta(minutes=2))
    tokens.authenticate(session, issued.plain)
    assert issued.token.last_used_at == clock.now()


def test_unknown_revoked_and_inactive_users_tokens_are_refused(session, make_user):
    user = make_user("member@TSS")
    issued = tokens.create_token(session, user)
    assert tokens.authenticate(session, issued.plain + "x") is None
    assert tokens.authenticate(session, "not-a-token") is None
    user.active = False
    session.commit()
    assert tokens.authenticate(session, issued.plain) is None
    user.active = True
    assert tokens.revoke_token(session, issued.token) is True
    assert tokens.revoke_token(session, issued.token) is False
    assert tokens.authenticate(session, issued.plain) is None


def test_an_inactive_user_gets_no_token_and_names_are_bounded(session, make_user):
    user = make_user("member@TSS")
    with pytest.raises(tokens.TokenError, match="for langt"):
        tokens.create_token(session, user, "x" * 101)
    user.active = False
    with pytest.raises(tokens.TokenError, match="deaktiveret"):
        tokens.create_token(session, user)


def test_tokens_are_never_deleted(session, make_user):
    issued = tokens.create_token(session, make_user("member@TSS"))
    with pytest.raises(DatabaseError, match="never deleted"):
        session.execute(text("DELETE FROM api_tokens WHERE id = :id"), {"id": issued.token.id})
        session.flush()
    session.rollback()


@pytest.mark.sqlite_only
def test_tokens_cli_creates_lists_and_revokes(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(main, ["--database-url", url, *args])

    assert cli("init-db").exit_code == 0
    assert cli("seed").exit_code == 0
    made = cli("users", "create", "a@b.dk", "--name", "A", "--password", "en-lang-adgangskode")
    assert made.exit_code == 0, made.output

    created = cli("tokens", "create", "A@B.dk", "--name", "ESDH")
    assert created.exit_code == 0, created.output
    plain = next(line for line in created.output.splitlines() if line.startswith("afl_"))
    listing = cli("tokens", "list")
    assert "a@b.dk" in listing.output and "ESDH" in listing.output and "aktiv" in listing.output
    assert plain not in listing.output

    from workflow.engine.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        token_id, stored = connection.execute(text("SELECT id, token_hash FROM api_tokens")).one()
    engine.dispose()
    assert stored == hashlib.sha256(plain.encode()).hexdigest()

    revoked = cli("tokens", "revoke", str(token_id))
    assert revoked.exit_code == 0 and "tilbagekaldt" in revoked.output
    assert "tilbagekaldt" in cli("tokens", "list").output
    assert "allerede" in cli("tokens", "revoke", str(token_id)).output
    assert cli("tokens", "revoke", "999").exit_code != 0
    unknown = cli("tokens", "create", "ingen@b.dk")
    assert unknown.exit_code != 0 and "findes ikke" in unknown.output
    assert ApiToken.__tablename__ == "api_tokens"
