"""Nothing approach-bot runs tries to reach outside this machine.

`bot index`, `bot ask` and `bot chat` run as real processes under strace, with
the network reachable (no namespace) and none of the telemetry switches set in
their environment: the program must switch them off itself. Every connect,
sendto and sendmsg of every thread and child is recorded; only loopback (and
unix sockets that are not a name resolver) may appear, and no DNS query at all,
not even to a resolver on loopback. ONNX Runtime looks up its telemetry host a
few seconds after start, so the chat server is kept up past that.

`make test` runs this file outside its network namespace (a namespace would
hide where a process tries to go only if it never tried).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (make test installs it)")

#: Every environment variable that switches a library's telemetry or downloads off: none is
#: set for the programs traced here, so approach-bot must switch them off by itself.
SWITCHES = (
    "ORT_DISABLE_TELEMETRY",
    "ANONYMIZED_TELEMETRY",
    "GRADIO_ANALYTICS_ENABLED",
    "HF_HUB_DISABLE_TELEMETRY",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "DO_NOT_TRACK",
)

#: How long the chat server stays up: past ONNX Runtime's first telemetry look-up (~9 s).
SERVE_SECONDS = 20

DOC = """---
title: {title}
description: A tiny approach page for the egress test.
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | {rating} | {note} |
| Neglectedness | Low | Many teams |
"""

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>connect|sendto|sendmsg)\((?P<args>.*)$")
_INET = re.compile(r'sin6?_port=htons\((?P<port>\d+)\).*?(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)")')
_RESOLVERS = ("resolve", "nscd", "dbus")


def outside_attempts(trace: Path) -> list[str]:
    """The recorded socket calls that reach beyond loopback, or ask a name resolver."""
    bad = []
    for line in trace.read_text(errors="replace").splitlines():
        match = _CALL.match(line)
        if match is None:
            continue
        args = match["args"]
        if "sa_family=AF_UNIX" in args:
            if any(name in args for name in _RESOLVERS):
                bad.append(line)
            continue
        if "sa_family=AF_INET" not in args:
            continue  # sendto on a connected socket names no address; its connect was checked
        address = _INET.search(args)
        if address is None:
            bad.append(line)
            continue
        host = address["v4"] or address["v6"] or ""
        loopback = host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")
        if not loopback or address["port"] == "53":
            bad.append(line)
    return bad


def traced(trace: Path, *args: str) -> list[str]:
    """The command line that runs ``bot ARGS`` under strace, writing ``trace``."""
    return [
        "strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
        sys.executable, "-m", "bot", *args,
    ]  # fmt: skip


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment with every telemetry switch removed, and a fresh ONNX cache."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES and not k.startswith("BOT_")}
    env["BOT_CACHE_DIR"] = os.environ.get("BOT_CACHE_DIR") or str(Path.home() / ".cache" / "approach-bot")
    return env


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Set-up, not traced: the model's one-time ONNX export for this environment (torch, which
    # looks up the user's name through the system's name service on a fresh virtualenv).
    env = clean_env(tmp_path_factory.mktemp("export"))
    code = "from bot.embedding import Embedder; Embedder.default().embed(['warm up'])"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, timeout=900)
    folder = tmp_path_factory.mktemp("egress") / "corpus"
    folder.mkdir()
    for name, rating, note in (("alpha", "High", "Easy to test today"), ("beta", "Low", "Hard to measure")):
        (folder / f"{name}.md").write_text(DOC.format(title=name.title(), rating=rating, note=note), "utf-8")
    return folder


def strace_works(tmp_path: Path) -> bool:
    done = subprocess.run(["strace", "-qq", "-o", str(tmp_path / "probe"), "true"], capture_output=True)
    return done.returncode == 0


@pytest.mark.slow
def test_index_and_ask_reach_nothing_outside(corpus: Path, tmp_path: Path):
    if not strace_works(tmp_path):
        pytest.skip("strace cannot trace here (no ptrace permission)")
    env, index = clean_env(tmp_path), tmp_path / "index"
    for name, args in (
        ("index", ("index", "--corpus", str(corpus), "--index", str(index))),
        ("ask", ("ask", "how tractable is alpha?", "--index", str(index))),
    ):
        trace = tmp_path / f"{name}.trace"
        done = subprocess.run(traced(trace, *args), capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert outside_attempts(trace) == [], f"bot {name} tried to reach outside"


@pytest.mark.slow
def test_a_serving_chat_reaches_nothing_outside(corpus: Path, tmp_path: Path):
    if not strace_works(tmp_path):
        pytest.skip("strace cannot trace here (no ptrace permission)")
    env, index, port = clean_env(tmp_path), tmp_path / "index", free_port()
    subprocess.run([sys.executable, "-m", "bot", "index", "--corpus", str(corpus), "--index", str(index)],
                   check=True, capture_output=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    trace = tmp_path / "chat.trace"
    args = traced(trace, "chat", "--index", str(index), "--port", str(port))
    server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    started = time.monotonic()
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(url, server)
        from gradio_client import Client

        reply = Client(url, verbose=False).predict("how tractable is alpha?", api_name="/chat")
        assert "Easy to test today" in str(reply)
        time.sleep(max(0.0, SERVE_SECONDS - (time.monotonic() - started)))
        assert server.poll() is None, "the chat server stopped"
    finally:
        _stop(server)
        out, _ = server.communicate(timeout=60)
    assert outside_attempts(trace) == [], "bot chat tried to reach outside:\n" + out.decode(errors="replace")[-2000:]


@pytest.mark.slow
def test_library_use_reaches_nothing_outside(corpus: Path, tmp_path: Path):
    """A program that uses the API (no `bot` command to switch telemetry off first) and stays up."""
    if not strace_works(tmp_path):
        pytest.skip("strace cannot trace here (no ptrace permission)")
    env, index, trace = clean_env(tmp_path), tmp_path / "index", tmp_path / "library.trace"
    program = (
        "import sys, time\n"
        "from bot import ask, build_index\n"
        "from bot.embedding import Embedder\n"
        "Embedder.default().embed(['the model loads before anything else'])\n"
        "build_index(sys.argv[1], sys.argv[2])\n"
        "print(ask('how tractable is alpha?', index_dir=sys.argv[2]).text)\n"
        f"time.sleep({SERVE_SECONDS})\n"
    )
    args = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
            sys.executable, "-c", program, str(corpus), str(index)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Easy to test today" in done.stdout
    assert outside_attempts(trace) == [], "library use tried to reach outside"


def _stop(tracer: subprocess.Popen[bytes]) -> None:
    """Interrupt the traced program (strace, told to stop, would detach and leave it running)."""
    children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
    try:
        pids = [int(p) for p in children.read_text().split()]
    except OSError:
        pids = []
    for pid in pids:
        os.kill(pid, signal.SIGINT)
    try:
        tracer.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"bot chat exited: {server.stdout.read().decode(errors='replace') if server.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("bot chat did not start")


def test_the_trace_reader_flags_dns_and_outside_addresses(tmp_path: Path):
    trace = tmp_path / "sample.trace"
    trace.write_text(
        '1 connect(3, {sa_family=AF_UNIX, sun_path="/tmp/x"}, 110) = 0\n'
        '1 connect(3, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '1 connect(3, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        '2 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n'
        '2 sendto(8, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 1\n'
        '3 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2a00::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n'
        '4 connect(5, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 110) = 0\n'
    )
    flagged = outside_attempts(trace)
    assert [line.split()[0] for line in flagged] == ["2", "2", "3", "4"]
