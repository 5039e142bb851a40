"""Transport hardening: cookie flags, HSTS, no caching of personal pages, and oversized bodies
refused from their declared length, before a byte of them is read."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time

import pytest
from support.mail import free_port

from workflow.app import ConfigurationError, create_app
from workflow.auth import tokens
from workflow.web import hardening

HTTPS = "https://localhost"


def _set_cookie(response) -> str:
    cookies = [value for key, value in response.headers.items() if key == "Set-Cookie"]
    assert cookies, "no cookie was set"
    return cookies[-1]


def _login(client, user, password, **kwargs):
    return client.post("/login", data={"email": user.email, "password": password}, **kwargs)


def test_session_cookie_over_http_is_httponly_and_lax_but_not_secure(
    client, make_login_user, password
):
    cookie = _set_cookie(_login(client, make_login_user("member@TSS"), password))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # `make run` on http://127.0.0.1 must keep working


def test_session_cookie_over_https_is_secure_and_hsts_is_sent(client, make_login_user, password):
    answer = _login(client, make_login_user("member@TSS"), password, base_url=HTTPS)
    assert "Secure" in _set_cookie(answer)
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_over_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize(
    ("setting", "over_https", "secure"),
    [(True, False, True), (False, True, False), ("auto", True, True), ("auto", False, False)],
)
def test_secure_cookie_setting(make_app, make_login_user, password, setting, over_https, secure):
    client = make_app(SECURE_COOKIES=setting).test_client()
    extra = {"base_url": HTTPS} if over_https else {}
    answer = _login(client, make_login_user("member@TSS"), password, **extra)
    assert ("Secure" in _set_cookie(answer)) is secure


def test_secure_cookies_follow_an_https_base_url(make_app, make_login_user, password):
    client = make_app(BASE_URL="https://aftaleflow.example.dk").test_client()
    assert "Secure" in _set_cookie(_login(client, make_login_user("member@TSS"), password))


def test_the_setting_is_read_from_the_environment():
    assert hardening.secure_cookies_mode({}) == "auto"
    assert hardening.secure_cookies_mode({"AFTALEFLOW_SECURE_COOKIES": "ja"}) is True
    assert hardening.secure_cookies_mode({"AFTALEFLOW_SECURE_COOKIES": "nej"}) is False
    with pytest.raises(ValueError, match="AFTALEFLOW_SECURE_COOKIES skal være ja eller nej"):
        hardening.secure_cookies_mode({"AFTALEFLOW_SECURE_COOKIES": "måske"})


def test_a_trusted_proxy_tells_the_scheme(make_app, make_login_user, password):
    headers = {"X-Forwarded-Proto": "https"}
    untrusted = make_app().test_client()
    assert "Strict-Transport-Security" not in untrusted.get("/login", headers=headers).headers
    trusted = make_app(TRUSTED_PROXIES=1).test_client()
    answer = _login(trusted, make_login_user("member@TSS"), password, headers=headers)
    assert "Secure" in _set_cookie(answer)
    assert "Strict-Transport-Security" in answer.headers


def test_signed_in_pages_are_not_stored(client, logged_in):
    logged_in("member@TSS")
    for path in ("/", "/profil", "/sager"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path


def test_account_pages_are_not_stored_and_static_files_may_be(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/glemt-adgangskode").headers["Cache-Control"] == "no-store"
    static = client.get("/static/style.css")
    static.close()
    assert static.status_code == 200
    assert static.headers.get("Cache-Control") != "no-store"


def test_api_answers_to_a_token_are_not_stored(client, session, make_user):
    issued = tokens.create_token(session, make_user("member@TSS"))
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {issued.plain}"})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"


class _WatchedStream(io.BytesIO):
    """A request body that notes whether anyone read from it."""

    def __init__(self) -> None:
        super().__init__(b"x" * 1024)
        self.read_from = False

    def read(self, size: int | None = -1) -> bytes:
        self.read_from = True
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.read_from = True
        return super().readline(size)

    def readinto(self, buffer) -> int:
        self.read_from = True
        return super().readinto(buffer)


# The declared length; only a kilobyte is really there, as with a client still sending.
ANNOUNCED = {"CONTENT_LENGTH": str(100 * 1024 * 1024)}


def test_an_oversized_form_is_refused_unread_with_a_danish_page(client, logged_in, text_of):
    logged_in("member@TSS")
    body = _WatchedStream()
    answer = client.post(
        "/sager/ny/signature_initiative",
        input_stream=body,
        environ_overrides=ANNOUNCED,
        content_type="multipart/form-data; boundary=x",
    )
    assert answer.status_code == 413
    assert "Det, du sendte, er for stort" in text_of(answer)
    assert "højst fylde 25 MB" in text_of(answer)
    assert not body.read_from


def test_an_oversized_api_body_is_a_problem_document(client, session, make_user):
    issued = tokens.create_token(session, make_user("member@TSS"))
    body = _WatchedStream()
    answer = client.post(
        "/api/v1/cases",
        input_stream=body,
        environ_overrides=ANNOUNCED,
        content_type="application/json",
        headers={"Authorization": f"Bearer {issued.plain}"},
    )
    assert answer.status_code == 413
    assert answer.content_type == "application/problem+json"
    problem = json.loads(answer.get_data(as_text=True))
    assert problem["type"].endswith("#problem-too-large")
    assert not body.read_from


SERVER_SCRIPT = """
import sys
from workflow.app import create_app
from workflow.web.server import serve
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x" * 64})
serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=1)
"""


def _wait_for_port(port: int, server: subprocess.Popen) -> None:
    # A generous limit: on a loaded 2-core machine the child's imports alone can take 10 s.
    give_up_at = time.monotonic() + 90
    while time.monotonic() < give_up_at:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start within 90 s")


@pytest.mark.slow
def test_waitress_refuses_a_streamed_oversized_body_before_reading_it(tmp_path):
    """A real server (`aftaleflow serve`'s waitress): the client announces 100 MB and sends
    only the first kilobyte; the Danish refusal arrives without the server waiting for the
    rest."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, f"sqlite:///{tmp_path / 'unused.db'}", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /sager/ny/signature_initiative HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/octet-stream\r\n"
                + f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode()
                + b"x" * 1024
            )
            reply = b""
            while b"</html>" not in reply:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr:
            server.stderr.close()
    head, _, page = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert "Det, du sendte, er for stort" in page.decode("utf-8")
    assert "højst sendes 26 MB" in page.decode("utf-8")


def test_a_body_within_the_limit_still_reaches_the_app(client, logged_in):
    logged_in("member@TSS")
    answer = client.post("/sager/ny/signature_initiative", data={"title": "x"})
    assert answer.status_code != 413


def test_a_bad_proxy_setting_stops_the_app_with_a_danish_explanation(monkeypatch, database_url):
    monkeypatch.setenv("AFTALEFLOW_TRUSTED_PROXIES", "mange")
    with pytest.raises(ConfigurationError, match="AFTALEFLOW_TRUSTED_PROXIES skal være et heltal"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x" * 64})


def test_a_nul_byte_in_a_query_value_is_a_400_not_a_server_error(client, make_login_user, password):
    """PostgreSQL refuses NUL even as a query parameter; every such value is refused first."""
    user = make_login_user("secretariat@TSS")
    client.post("/login", data={"email": user.email, "password": password})
    assert client.get("/sager", query_string={"q": "a\x00b"}).status_code == 400
    assert client.get("/api/v1/cases", query_string={"state": "\x00"}).status_code in (400, 401)
    assert client.get("/sager", query_string={"q": "genoptræning"}).status_code == 200
