"""The served app under load and attack: concurrent clients, auth, file routes, egress."""

from __future__ import annotations

import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import auth
from bot.ui import is_loopback
from tests.conftest import free_port, serving
from tests.fakes import run_in_threads

APPROACHES = [
    ("AI control", "AI Control"),
    ("RSPs", "Responsible Scaling Policies"),
    ("watermarking", "Content Provenance & Watermarking"),
    ("guaranteed safe AI", "Guaranteed Safe AI"),
    ("model organisms", "Model Organisms of Misalignment"),
    ("whistleblower protections", "Whistleblower Protections & Right to Warn"),
    ("international coordination", "International Coordination"),
]


@pytest.fixture(scope="module")
def server(shipped_index: Path) -> Iterator[str]:
    yield from serving(shipped_index)


@pytest.mark.slow
def test_thirty_concurrent_clients_keep_their_own_follow_ups(server: str):
    from gradio_client import Client

    clients, questions_each = 30, 20
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        client = Client(server, verbose=False, httpx_kwargs={"timeout": 300})
        for j in range(questions_each // 2):
            name, title = APPROACHES[(i + j) % len(APPROACHES)]
            for question, expect in (
                (f"How tractable is {name}?", f"{title} › Evaluation Summary"),
                ("and who should work on it?", f"{title} › Who Should Work on This?"),
            ):
                started = time.perf_counter()
                try:
                    reply = client.predict(question, api_name="/chat")
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    with lock:
                        errors.append(f"client {i}: {question}: {exc!r}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)
                    sources = reply.split("Sources:", 1)[-1]
                    if expect not in sources.split("\n[2]")[0]:
                        errors.append(f"client {i}: {question!r} after {name!r}: {sources[:160]!r}")

    elapsed = run_in_threads(run, clients, timeout=600)
    assert errors == [], "\n".join(errors[:10]) + f"\n… {len(errors)} errors"
    assert len(latencies) == clients * questions_each
    p95 = sorted(latencies)[int(0.95 * (len(latencies) - 1))]
    print(
        f"{clients} clients × {questions_each} questions in {elapsed:.1f} s: "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, 0 errors"
    )


def test_no_route_serves_files_outside_the_corpus_and_index(server: str, shipped_index: Path):
    secret = Path(__file__).parent.parent / "pyproject.toml"
    for path in (
        "/etc/passwd",
        str(secret),
        str(shipped_index / "manifest.json"),
    ):
        for route in (f"/gradio_api/file={path}", f"/file={path}", f"/gradio_api/file/{path}"):
            try:
                with urllib.request.urlopen(server + route, timeout=10) as response:
                    body = response.read()
            except urllib.error.HTTPError as err:
                assert err.code in (400, 403, 404, 405), (route, err.code)
                continue
            assert b"root:" not in body and b"[project]" not in body and b"chunker_version" not in body, route


def test_every_response_forbids_loading_from_elsewhere(server: str):
    """Issue 15 point 3: the CSP comes as a header, before any script runs; no referrer leaves."""
    for route in ("/", "/config", "/gradio_api/info"):
        with urllib.request.urlopen(server + route, timeout=10) as response:
            csp = response.headers.get("Content-Security-Policy", "")
            assert "img-src 'self' data: blob:" in csp and "frame-src 'none'" in csp, route
            assert response.headers.get("Referrer-Policy") == "no-referrer"


def test_a_wrong_password_is_refused(shipped_index: Path):
    from bot.ui import serve

    port = free_port()
    demo = serve(index_dir=shipped_index, port=port, auth=[("alice", "s3cret")], block=False)
    try:
        base = f"http://127.0.0.1:{port}"

        assert login(port, "wrong") in (400, 401, 403)
        assert login(port, "s3cret") == 200
        with pytest.raises(urllib.error.HTTPError):  # the API refuses an anonymous caller
            urllib.request.urlopen(f"{base}/gradio_api/info", timeout=10)
    finally:
        demo.close()


def test_repeated_wrong_passwords_lock_the_user_out_for_a_while(shipped_index: Path):
    """Issue 15 point 9: after a few failures a user at a client waits out a growing lockout,
    even with the right password; another user is not locked by it."""
    from bot.ui import LOGIN_FREE_FAILURES, LOGIN_LOCK_SECONDS, serve

    port = free_port()
    demo = serve(index_dir=shipped_index, port=port, auth=[("alice", "s3cret"), ("bob", "pw2")], block=False)
    try:
        for _ in range(LOGIN_FREE_FAILURES + 1):
            assert login(port, "guess") == 400
        assert login(port, "s3cret") == 429  # locked: the right password is refused too
        assert [login(port, "guess") for _ in range(50)].count(429) == 50  # a burst goes nowhere
        assert login(port, "pw2", user="bob") == 200
        time.sleep(LOGIN_LOCK_SECONDS + 0.3)
        assert login(port, "s3cret") == 200
    finally:
        demo.close()


def test_the_login_lockout_doubles_with_each_further_failure(monkeypatch: pytest.MonkeyPatch):
    from bot import ui

    now = [1000.0]
    monkeypatch.setattr(ui.time, "monotonic", lambda: now[0])
    throttle = ui.LoginThrottle()
    for _ in range(ui.LOGIN_FREE_FAILURES):
        throttle.record("alice@1", ok=False)
    assert throttle.locked_for("alice@1") == 0
    waits = []
    for _ in range(4):
        throttle.record("alice@1", ok=False)
        waits.append(throttle.locked_for("alice@1"))
        assert throttle.locked_for("alice@2") == 0  # another client is not locked out
        now[0] += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 8.0]
    throttle.record("alice@1", ok=True)
    assert throttle.locked_for("alice@1") == 0


def test_auth_settings_and_loopback_default(tmp_path: Path):
    assert auth("alice:pw,bob:pw2") == [("alice", "pw"), ("bob", "pw2")]
    users = tmp_path / "users"
    users.write_text("# team\ncarol:pw3\n")
    assert auth(str(users)) == [("carol", "pw3")]
    assert auth("") is None
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and not is_loopback("0.0.0.0")

    from bot.cli import chat_cmd

    host = next(p for p in chat_cmd.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_serving_beyond_loopback_without_a_login_is_warned_about(tmp_path: Path):
    """`bot chat --host 0.0.0.0` without BOT_AUTH says anyone can use it; with BOT_AUTH it does not
    (a missing index then stops the command before it serves anything)."""
    from click.testing import CliRunner

    from bot.cli import main

    args = ["chat", "--host", "0.0.0.0", "--port", str(free_port()), "--index", str(tmp_path / "none")]
    open_to_all = CliRunner().invoke(main, args)
    assert "warning: serving on 0.0.0.0 without authentication" in open_to_all.stderr
    assert open_to_all.exit_code == 1  # the missing index, in one line
    with_login = CliRunner().invoke(main, args, env={"BOT_AUTH": "alice:s3cret"})
    assert "without authentication" not in with_login.stderr and with_login.exit_code == 1
    loopback = CliRunner().invoke(main, [a if a != "0.0.0.0" else "127.0.0.1" for a in args])
    assert "without authentication" not in loopback.stderr


def test_outbound_connections_are_blocked_during_the_tests():
    """The suite runs with egress blocked (pytest-socket, and a network namespace under `make test`)."""
    with pytest.raises(Exception) as err:  # noqa: B017 - SocketBlockedError or an OSError
        socket.create_connection(("1.1.1.1", 443), timeout=3)
    assert "1.1.1.1" in str(err.value) or isinstance(err.value, OSError)


def login(port: int, password: str, user: str = "alice") -> int:
    """The HTTP status of a login attempt on the server at ``port``."""
    data = f"username={user}&password={password}".encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
