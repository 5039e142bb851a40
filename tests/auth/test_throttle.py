"""Login throttling: per account and per client address, the same for unknown accounts, kept
in the database so every worker and server sees it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from workflow.auth import throttle
from workflow.engine import clock

LOCKED = "For mange forsøg – prøv igen om 1 minut."


def _fail(client, email: str, times: int, **environ):
    answers = []
    for _ in range(times):
        answers.append(
            client.post(
                "/login",
                data={"email": email, "password": "forkert gæt"},
                environ_base=environ,
            )
        )
    return answers


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    client, make_login_user, log_in, text_of, frozen_clock
):
    user = make_login_user("member@TSS")
    answers = _fail(client, user.email, 5)
    assert [answer.status_code for answer in answers] == [422] * 5

    locked = log_in(user)
    assert locked.status_code == 429
    assert LOCKED in text_of(locked)
    assert int(locked.headers["Retry-After"]) == 60
    assert client.get("/").status_code == 302

    clock.set_time(frozen_clock + timedelta(minutes=1, seconds=1))
    assert log_in(user).status_code == 303


def test_the_lock_grows_with_each_further_failure(client, make_login_user, text_of, frozen_clock):
    user = make_login_user("member@TSS")
    now = frozen_clock
    for minutes in (1, 2, 4):
        answers = _fail(client, user.email, 5 if minutes == 1 else 1)
        assert answers[-1].status_code == 422
        locked = _fail(client, user.email, 1)[0]
        assert locked.status_code == 429
        expected = "1 minut." if minutes == 1 else f"{minutes} minutter."
        assert f"For mange forsøg – prøv igen om {expected}" in text_of(locked)
        now += timedelta(minutes=minutes, seconds=1)
        clock.set_time(now)


def test_an_unknown_account_is_locked_and_told_exactly_the_same(client, make_login_user, text_of):
    user = make_login_user("member@TSS")
    unknown = "findes.ikke@test.aftaleflow.dk"
    known_answers = _fail(client, user.email, 6, REMOTE_ADDR="10.0.0.1")
    unknown_answers = _fail(client, unknown, 6, REMOTE_ADDR="10.0.0.2")
    assert [a.status_code for a in known_answers] == [a.status_code for a in unknown_answers]
    assert known_answers[-1].status_code == 429
    assert text_of(known_answers[-1]) == text_of(unknown_answers[-1]).replace(unknown, user.email)


def _few_free_address_failures(monkeypatch) -> None:
    # The real allowance (30, for a whole hospital behind one address) only makes this slower.
    monkeypatch.setattr(throttle, "LOGIN_ADDRESS", throttle.Rule("login-adresse", 3))


def test_many_failures_from_one_address_lock_that_address_for_every_account(
    client, make_login_user, log_in, text_of, monkeypatch
):
    _few_free_address_failures(monkeypatch)
    user = make_login_user("member@TSS")
    for number in range(throttle.LOGIN_ADDRESS.free_failures):
        _fail(client, f"gæt{number}@test.aftaleflow.dk", 1, REMOTE_ADDR="10.9.9.9")
    from_there = client.post(
        "/login",
        data={"email": user.email, "password": "korrekt hest batteri hæfteklamme"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert from_there.status_code == 429
    assert LOCKED in text_of(from_there)
    assert log_in(user).status_code == 303  # the same account from another address


def test_a_forwarded_address_is_ignored_unless_a_proxy_is_trusted(
    make_app, make_login_user, password, monkeypatch
):
    _few_free_address_failures(monkeypatch)
    user = make_login_user("member@TSS")
    direct = make_app().test_client()
    for number in range(throttle.LOGIN_ADDRESS.free_failures):
        direct.post(
            "/login",
            data={"email": f"gæt{number}@test.aftaleflow.dk", "password": "x"},
            headers={"X-Forwarded-For": f"10.1.1.{number}"},
        )
    # Spoofed X-Forwarded-For headers did not spread the failures: the real address is locked.
    locked = direct.post("/login", data={"email": user.email, "password": password})
    assert locked.status_code == 429

    behind_proxy = make_app(TRUSTED_PROXIES=1).test_client()
    answer = behind_proxy.post(
        "/login",
        data={"email": user.email, "password": password},
        headers={"X-Forwarded-For": "192.0.2.10"},
    )
    assert answer.status_code == 303


def test_a_successful_login_clears_the_accounts_failures(client, make_login_user, log_in):
    user = make_login_user("member@TSS")
    _fail(client, user.email, 4)
    assert log_in(user).status_code == 303
    client.post("/logout")
    assert [a.status_code for a in _fail(client, user.email, 4)] == [422] * 4


def test_failures_are_forgotten_an_hour_after_the_last_lock(client, make_login_user, frozen_clock):
    user = make_login_user("member@TSS")
    _fail(client, user.email, 5)
    clock.set_time(frozen_clock + timedelta(minutes=62))
    # Counting starts over: four more failures are free again.
    assert [a.status_code for a in _fail(client, user.email, 5)] == [422] * 5


def test_the_count_is_shared_by_separate_connections(private_engine):
    """Requests on two workers (each its own session and connection, real commits) add to
    one counter, and both see the lock."""
    email = f"delt-{uuid.uuid4().hex}@test.aftaleflow.dk"
    key = throttle.LOGIN_ACCOUNT.key(email)
    workers = [private_engine.connect(), private_engine.connect()]
    try:
        for number in range(throttle.LOGIN_ACCOUNT.free_failures):
            with Session(workers[number % 2]) as request:
                assert throttle.locked_for(request, [key]) is None
                request.rollback()  # a request ends its read, as the app's teardown does
                throttle.record_failure(request, throttle.LOGIN_ACCOUNT, email)
        for connection in workers:
            with Session(connection) as request:
                assert throttle.locked_for(request, [key]) is not None
                request.rollback()
    finally:
        for connection in workers:
            connection.close()


def test_the_lock_steps_double_up_to_an_hour():
    steps = [throttle.lock_after(failures, 5) for failures in range(3, 14)]
    assert steps[:2] == [None, None]
    minutes = [step.total_seconds() / 60 for step in steps[2:] if step is not None]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
