"""Reliability, round two (issue 15): concurrent writers, a long-lived reader
that follows re-indexing through Chroma, model identity, failures that end in
one line, and library use that exits cleanly.

Indexes here are tiny (a few generated pages); thresholds that decide when
Chroma answers are monkeypatched down so the Chroma paths run on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_chroma_server import chroma_url  # noqa: F401 - the `chroma run` server fixture

PAGE = """---
title: {title}
description: Generated page {n} for the reliability tests.
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | {rating} | {note} |
| Neglectedness | Medium | Few teams {n} |

## Key Techniques

| Technique | What it does | Limitation |
|-----------|--------------|------------|
| Probe {n} | Checks {word} behaviour | Costly |
"""

#: Trials of the concurrency tests (the issue asks for 10; 3 keep the suite light on shared machines).
TRIALS = int(os.environ.get("BOT_TEST_TRIALS", "3"))

WORDS = ["zebra", "quartz", "falcon", "maple", "cobalt", "harbor", "lumen", "orchid", "tundra", "violet", "walnut"]


def write_corpus(folder: Path, pages: int = 2, version: str = "one") -> Path:
    """``pages`` small approach pages; ``version`` changes one cell of each."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for n in range(pages):
        word = WORDS[n % len(WORDS)]
        note = f"{word} marker {version}"
        text = PAGE.format(title=f"Approach {word.title()}", n=n, rating="High", note=note, word=word)
        (folder / f"page-{word}.md").write_text(text, "utf-8")
    return folder


def bot(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserts there is one and no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    return lines[0]


# -- 2. a long-lived process sees a re-index on searches that go through Chroma


def _texts(hits: list) -> str:
    return " ".join(h.chunk.text for h in hits)


@pytest.mark.parametrize("filtered", [False, True], ids=["whole-index", "filter-of-9"])
def test_a_running_reader_sees_a_reindex_through_chroma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filtered: bool):
    from bot import retrieval
    from bot.retrieval import HybridRetriever, Index

    monkeypatch.setattr(retrieval, "EXACT_UP_TO", 0)  # every unfiltered search goes through Chroma
    monkeypatch.setattr(retrieval, "LOCAL_DOCS", 1)  # and every filtered one
    corpus, index = write_corpus(tmp_path / "corpus", 10, "one"), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    Index.forget()
    docs = sorted(p.stem for p in corpus.glob("*.md") if p.stem != "page-cobalt") if filtered else None

    def search() -> tuple[str, set[str]]:
        """The dense ranking's texts, and the ids Chroma itself returned."""
        opened = Index.open(index)
        retriever = HybridRetriever(opened)
        dense = retriever.ranked("zebra marker", docs)[0].items
        where = {"doc_id": {"$in": docs}} if docs else None
        raw = opened.store.query(retriever.vector("zebra marker"), 40, where)
        return " ".join(opened.catalog.chunks[c].text for c, _ in dense), {c for c, _ in raw}

    before, ids_before = search()
    assert "zebra marker one" in before
    write_corpus(corpus, 10, "two")  # another process re-indexes while this one keeps running
    done = bot("index", "--corpus", str(corpus), "--index", str(index))
    assert done.returncode == 0, done.stderr
    after, ids_after = search()
    live = set(Index.open(index).catalog.chunks)
    assert ids_after <= live, "Chroma returned ids the re-index deleted"
    assert "zebra marker two" in after and "zebra marker one" not in after


# -- 1. one writer per index folder


def test_a_second_index_run_refuses_with_one_line_while_one_holds_the_lock(tmp_path: Path):
    from bot.locking import index_lock

    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"
    with index_lock(index, 0):
        started = time.monotonic()
        refused = bot("index", "--corpus", str(corpus), "--index", str(index), env={"BOT_INDEX_LOCK_TIMEOUT": "1"})
        waited = time.monotonic() - started
        line = one_line(refused)
        assert refused.returncode == 1 and "another `bot index` is writing" in line and f"process {os.getpid()}" in line
        assert waited >= 1.0
        rebuild = bot("index", "--corpus", str(corpus), "--index", str(index), "--rebuild", env={"BOT_INDEX_LOCK_TIMEOUT": "0"})
        assert "another `bot index` is writing" in one_line(rebuild)
    assert not (index / "manifest.json").exists()
    done = bot("index", "--corpus", str(corpus), "--index", str(index))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("second", [(), ("--rebuild",)], ids=["index+index", "rebuild+index"])
def test_concurrent_index_runs_take_turns_and_the_index_answers(tmp_path: Path, second: tuple[str, ...]):
    from bot import ChatSession
    from bot.retrieval import Index

    corpus, index = write_corpus(tmp_path / "corpus", 3), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    for trial in range(TRIALS):
        write_corpus(corpus, 3, f"v{trial}")
        args = [sys.executable, "-m", "bot", "index", "--corpus", str(corpus), "--index", str(index)]
        runs = [
            subprocess.Popen(args + list(extra), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for extra in (second, ())
        ]
        outcomes = [(run.wait(timeout=300), run.stderr.read() if run.stderr else "") for run in runs]
        for status, err in outcomes:
            assert status == 0, err
            assert "Traceback" not in err
        Index.forget()
        answer = ChatSession(index).ask("how tractable is Approach Zebra?")
        assert f"zebra marker v{trial}" in answer.text
        generations = sorted(p.name for p in index.glob("lexical-*"))
        assert generations == [Index.open(index).manifest.lexical]
        assert not list(index.glob(".lexical-*.tmp"))


# -- 10. library use exits cleanly


def test_a_short_program_that_opens_the_index_exits_cleanly(tmp_path: Path):
    from bot import build_index

    index = tmp_path / "index"
    build_index(write_corpus(tmp_path / "corpus"), index)
    program = f"from bot.retrieval import Index; Index.open({str(index)!r})"
    for _ in range(5):  # it aborted (exit 134, SIGABRT) in most runs while the model still loaded
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "terminate called" not in done.stderr


# -- 7. model identity is more than the folder's name


def test_another_model_under_the_same_folder_name_says_rebuild(tmp_path: Path):
    from bot import config
    from bot.store import Manifest

    shipped = Path(config.embed_model())
    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    assert Manifest.read(index).model_id  # recorded
    # the same folder name (…/<package>/model), other configuration: another model
    other = tmp_path / shipped.parent.name / "model"
    other.mkdir(parents=True)
    for path in shipped.iterdir():
        if path.name != "config.json":
            (other / path.name).symlink_to(path)
    (other / "config.json").write_text(
        (shipped / "config.json").read_text("utf-8").replace('"hidden_act": "gelu"', '"hidden_act": "relu"'), "utf-8"
    )
    assert (other / "config.json").read_text("utf-8") != (shipped / "config.json").read_text("utf-8")
    env = {"BOT_EMBED_MODEL": str(other)}
    for args in (("ask", "how tractable is Approach Zebra?"), ("index", "--corpus", str(corpus))):
        line = one_line(bot(*args, "--index", str(index), env=env, timeout=120))
        assert "another model saved as" in line and "bot index --rebuild" in line


# -- 8. every failure is one line saying what to do, and leaves nothing that breaks the next run


def _file_size_limit(limit: int):  # noqa: ANN202 - a preexec_fn
    import resource
    import signal

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_during_index_is_one_line_and_the_rerun_works(tmp_path: Path):
    from bot import ChatSession
    from bot.retrieval import Index

    corpus, index = write_corpus(tmp_path / "corpus", 3, "one"), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    write_corpus(corpus, 3, "two")
    args = [sys.executable, "-m", "bot", "index", "--corpus", str(corpus), "--index", str(index)]
    full = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=_file_size_limit(64_000))
    full.stderr = "\n".join(line for line in full.stderr.splitlines() if "embedding" not in line)  # the progress bar
    line = one_line(full)
    assert "free disk space" in line and "bot index" in line
    Index.forget()
    assert "zebra marker one" in ChatSession(index).ask("how tractable is Approach Zebra?").text  # the old index serves
    again = bot("index", "--corpus", str(corpus), "--index", str(index))
    assert again.returncode == 0, again.stderr
    Index.forget()
    assert "zebra marker two" in ChatSession(index).ask("how tractable is Approach Zebra?").text


@pytest.mark.parametrize(
    "error", [(28, "No space left on device"), (30, "Read-only file system")], ids=["disk-full", "read-only"]
)
def test_a_failed_generation_write_is_one_line_and_leaves_no_half_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: tuple[int, str]
):
    from click.testing import CliRunner

    from bot import lexical
    from bot.cli import main
    from bot.retrieval import Index

    corpus, index = write_corpus(tmp_path / "corpus", 2, "one"), tmp_path / "index"
    assert CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)]).exit_code == 0
    live = Index.open(index).manifest.lexical
    write_corpus(corpus, 2, "two")
    real_save = lexical.Vectors.save

    def failing_save(self: object, folder: Path) -> None:
        real_save(self, folder)  # half a folder on disk, then the disk is full (or read-only)
        raise OSError(error[0], error[1], str(folder / "vectors.npy"))

    monkeypatch.setattr(lexical.Vectors, "save", failing_save)
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "Traceback" not in result.output
    assert error[1] in errors[0] and "run `bot index` again" in errors[0]
    assert not list(index.glob(".lexical-*.tmp")), "a half-written generation was left behind"
    assert sorted(p.name for p in index.glob("lexical-*")) == [live]
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)]).exit_code == 0
    Index.forget()
    assert any("zebra marker two" in c.text for c in Index.open(index).catalog.chunks.values())


def test_an_empty_npy_is_one_line_and_bot_index_repairs_it(tmp_path: Path):
    from bot.store import Manifest

    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    generation = index / Manifest.read(index).lexical
    for name in ("vectors.npy", "headings.npy"):
        (generation / name).write_bytes(b"")
    line = one_line(bot("ask", "how tractable is Approach Zebra?", "--index", str(index)))  # was "Aborted!"
    assert "unreadable" in line and "bot index" in line
    repaired = bot("index", "--corpus", str(corpus), "--index", str(index))  # the corpus is unchanged
    assert repaired.returncode == 0, repaired.stderr
    answer = bot("ask", "how tractable is Approach Zebra?", "--index", str(index))
    assert answer.returncode == 0 and "zebra marker one" in answer.stdout, answer.stderr


def test_half_written_generations_left_by_a_dead_run_are_removed_by_the_next(tmp_path: Path):
    """A run killed (or out of disk) while writing leaves `.lexical-*.tmp` folders: the next
    `bot index` (holding the lock) removes them, so they neither fill the disk nor break it."""
    from click.testing import CliRunner

    from bot import ChatSession
    from bot.cli import main
    from bot.retrieval import Index

    corpus, index = write_corpus(tmp_path / "corpus", 2, "one"), tmp_path / "index"
    assert CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)]).exit_code == 0
    for name in (".lexical-0123456789ab.tmp", ".lexical-ba9876543210.tmp"):
        (index / name).mkdir()
        (index / name / "vectors.npy").write_bytes(b"\x93NUMPY" + b"\0" * 1_000_000)  # cut short
    write_corpus(corpus, 2, "two")
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert not list(index.glob(".lexical-*.tmp"))
    assert sorted(p.name for p in index.glob("lexical-*")) == [Index.open(index).manifest.lexical]
    Index.forget()
    assert "zebra marker two" in ChatSession(index).ask("how tractable is Approach Zebra?").text


def test_an_index_path_that_is_a_file_is_one_line_without_rebuild(tmp_path: Path):
    afile = tmp_path / "index"
    afile.write_text("not a folder")
    corpus = write_corpus(tmp_path / "corpus")
    for args in (("ask", "anything at all"), ("index", "--corpus", str(corpus))):
        line = one_line(bot(*args, env={"BOT_INDEX_DIR": str(afile)}))
        assert "not a file" in line or "is a file" in line
        assert "--rebuild" not in line


def test_chat_on_a_busy_port_or_an_ipv6_host_is_one_line(tmp_path: Path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line(bot("chat", "--index", str(tmp_path / "index"), "--port", str(port), timeout=60))
        assert "is in use" in line and "--port" in line
    line = one_line(bot("chat", "--index", str(tmp_path / "index"), "--host", "::", timeout=60))
    assert "--host" in line and "0.0.0.0" in line


# -- 6. memory per session is bounded


def test_a_session_keeps_a_bounded_history_and_cut_questions(tmp_path: Path):
    from bot import ChatSession, build_index
    from bot.chat import MAX_QUESTION_CHARS, MAX_TURNS

    index = tmp_path / "index"
    build_index(write_corpus(tmp_path / "corpus"), index)
    session = ChatSession(index)
    huge = "how tractable is Approach Zebra? " + "padding " * (10 * 1024 * 1024 // 8)  # 10 MB
    answer = session.ask(huge)
    assert answer.notice and len(answer.question) <= MAX_QUESTION_CHARS
    assert len(answer.to_dict()["question"]) <= MAX_QUESTION_CHARS  # /ask echoes no 10 MB back
    assert len(session.history[-1].question) <= MAX_QUESTION_CHARS
    for n in range(MAX_TURNS + 10):
        session.ask(f"how neglected is Approach Zebra? ({n})")
    assert len(session.history) == MAX_TURNS
    assert session.history[-1].question.endswith(f"({MAX_TURNS + 9})")
    assert sum(len(t.question) for t in session.history) < MAX_TURNS * MAX_QUESTION_CHARS
    follow_up = session.ask("and how tractable is it?")  # follow-ups still use the kept history
    assert "Approach Zebra" in follow_up.query and "zebra marker one" in follow_up.text


# -- 2 (continued). long-lived replicas, embedded store and `chroma run` server

REPLICA = """
import json, sys
from bot import retrieval
retrieval.EXACT_UP_TO = 0  # every search through Chroma, as above the local-scan size
retrieval.LOCAL_DOCS = 1
from bot.retrieval import HybridRetriever, Index
for line in sys.stdin:
    request = json.loads(line)
    try:
        opened = Index.open(sys.argv[1])
        dense = HybridRetriever(opened).ranked(request["q"], request["docs"])[0].items
        print(json.dumps([opened.catalog.chunks[c].text for c, _ in dense]), flush=True)
    except Exception as exc:
        print(json.dumps(["error: " + repr(exc)]), flush=True)
"""


class Replica:
    """A long-lived process that answers searches from one index folder, like a serving `bot chat`."""

    def __init__(self, index: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", REPLICA, str(index)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **env},
        )  # fmt: skip

    def search(self, query: str, docs: list[str] | None = None) -> str:
        import json

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"q": query, "docs": docs}) + "\n")
        self.proc.stdin.flush()
        return " ".join(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _replicas_follow(tmp_path: Path, chroma: list[str], env: dict[str, str]) -> None:
    corpus, index = write_corpus(tmp_path / "corpus", 10, "one"), tmp_path / "index"
    done = bot("index", "--corpus", str(corpus), "--index", str(index), *chroma, env=env)
    assert done.returncode == 0, done.stderr
    docs = sorted(p.stem for p in corpus.glob("*.md") if p.stem != "page-cobalt")  # 9 approaches
    replicas = [Replica(index, env), Replica(index, env)]
    try:
        for replica in replicas:
            assert "zebra marker one" in replica.search("zebra marker")
            assert "zebra marker one" in replica.search("zebra marker", docs)
        for version, extra in (("two", ()), ("three", ("--rebuild",))):
            write_corpus(corpus, 10, version)
            done = bot("index", "--corpus", str(corpus), "--index", str(index), *chroma, *extra, env=env)
            assert done.returncode == 0, done.stderr
            for replica in replicas:  # the next question after the re-index sees it
                for found in (replica.search("zebra marker"), replica.search("zebra marker", docs)):
                    assert f"zebra marker {version}" in found and "error:" not in found, found[:300]
                    assert "zebra marker one" not in found
    finally:
        for replica in replicas:
            replica.close()


def test_two_long_lived_replicas_see_a_reindex_by_a_third_process(tmp_path: Path):
    _replicas_follow(tmp_path, [], {})


@pytest.mark.slow
def test_two_replicas_on_a_chroma_server_see_a_reindex_by_a_third_process(tmp_path: Path, chroma_url: str):  # noqa: F811 - the fixture imported above
    _replicas_follow(tmp_path, ["--chroma-url", chroma_url], {"BOT_CHROMA_COLLECTION": "replicas"})


# -- 2 (the server itself). a serving `bot chat` sees a re-index on its next question

SERVE_THROUGH_CHROMA = """
import sys
from bot import retrieval
retrieval.EXACT_UP_TO = 0  # every search through Chroma, as above the local-scan size
retrieval.LOCAL_DOCS = 1
from bot.cli import main
main(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.parametrize("store", ["embedded", "chroma-server"])
def test_a_serving_bot_chat_sees_a_reindex_on_its_next_question(tmp_path: Path, store: str, request: pytest.FixtureRequest):
    """A long-lived `bot chat` (its /ask API), every search through Chroma, with and without a filter
    of 9 approaches: a re-index and a --rebuild by another process show in the next answer. On a
    `chroma run` server, two `bot chat` replicas on the one index folder both see them."""
    from tests.test_server_memory import Caller, ChatServer

    chroma = ["--chroma-url", request.getfixturevalue("chroma_url")] if store == "chroma-server" else []
    env = {"BOT_CHROMA_COLLECTION": "served"} if chroma else {}
    corpus, index = write_corpus(tmp_path / "corpus", 10, "one"), tmp_path / "index"
    done = bot("index", "--corpus", str(corpus), "--index", str(index), *chroma, env=env)
    assert done.returncode == 0, done.stderr
    docs = sorted(p.stem for p in corpus.glob("*.md") if p.stem != "page-cobalt")  # 9 approaches
    servers: list[ChatServer] = []
    try:
        for n in range(2 if chroma else 1):
            servers.append(ChatServer(index, tmp_path / f"tmp{n}", *chroma, code=SERVE_THROUGH_CHROMA, env=env))
        callers = [Caller(server.port) for server in servers]

        def answers() -> list[str]:
            found = []
            for caller in callers:
                for scope in (None, docs):
                    data, _ = caller.ask("how tractable is Approach Zebra?", "one-long-session", scope)
                    assert "error" not in data, data
                    found.append(data["text"])
            return found

        assert all("zebra marker one" in text for text in answers())
        for version, extra in (("two", ()), ("three", ("--rebuild",))):
            write_corpus(corpus, 10, version)
            done = bot("index", "--corpus", str(corpus), "--index", str(index), *chroma, *extra, env=env)
            assert done.returncode == 0, done.stderr
            for text in answers():  # the next question after the re-index
                assert f"zebra marker {version}" in text and "zebra marker one" not in text, text[:300]
        assert all(server.proc.poll() is None for server in servers)
    finally:
        for server in servers:
            server.stop()


# -- a --rebuild that dies leaves the old index whole


KILLED_REBUILD = """
import os, sys
from bot import indexing
real = indexing._vectors_for
def die(*args, **kwargs):
    real(*args, **kwargs)
    os._exit(9)  # as kill -9 would, while the rebuild embeds: no cleanup runs
indexing._vectors_for = die
indexing.build_index(sys.argv[1], sys.argv[2], rebuild=True)
"""


@pytest.mark.parametrize("through_chroma", [False, True], ids=["local-scan", "chroma"])
def test_a_rebuild_killed_mid_run_leaves_the_old_index_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through_chroma: bool
):
    from bot import ChatSession, retrieval
    from bot.retrieval import Index
    from bot.store import Manifest

    if through_chroma:
        monkeypatch.setattr(retrieval, "EXACT_UP_TO", 0)
    corpus, index = write_corpus(tmp_path / "corpus", 3, "one"), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    write_corpus(corpus, 3, "two")
    killed = subprocess.run([sys.executable, "-c", KILLED_REBUILD, str(corpus), str(index)], cwd=ROOT, timeout=300)
    assert killed.returncode == 9
    Index.forget()
    opened = Index.open(index)
    assert opened.store.count() == Manifest.read(index).chunks  # the manifest's count is what the store holds
    assert "zebra marker one" in ChatSession(index).ask("how tractable is Approach Zebra?").text
    done = bot("index", "--corpus", str(corpus), "--index", str(index), "--rebuild")
    assert done.returncode == 0, done.stderr
    Index.forget()
    assert "zebra marker two" in ChatSession(index).ask("how tractable is Approach Zebra?").text
    store = Index.open(index).store
    assert [c.name for c in store.client.list_collections()] == [store.collection_name]  # the replaced ones are gone


def test_bot_index_restores_a_damaged_store_from_the_index_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot import ChatSession, retrieval
    from bot.retrieval import Index

    monkeypatch.setattr(retrieval, "EXACT_UP_TO", 0)  # answers go through the restored store
    corpus, index = write_corpus(tmp_path / "corpus", 3), tmp_path / "index"
    assert bot("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    (sqlite,) = (index / "chroma").rglob("chroma.sqlite3")
    with sqlite.open("r+b") as handle:
        handle.truncate(300)
    assert "bot index --rebuild" in one_line(bot("ask", "how tractable is Approach Zebra?", "--index", str(index)))
    done = bot("index", "--corpus", str(corpus), "--index", str(index))  # the corpus is unchanged
    assert done.returncode == 0, done.stderr
    assert "(0 embedded)" in done.stdout  # restored from the index's own vectors, not embedded again
    Index.forget()
    opened = Index.open(index)
    assert opened.store.count() == opened.manifest.chunks
    assert "zebra marker one" in ChatSession(index).ask("how tractable is Approach Zebra?").text


# -- a reader opening the index while a re-index switches it


def _racing_load(monkeypatch: pytest.MonkeyPatch, corpus: Path, index: Path, after: bool) -> None:
    """The first generation load of this process meets a re-index: before it reads (the
    generation it was told of is deleted under it) or just after (it read the old one whole)."""
    from bot import build_index, retrieval

    real = retrieval.load_generation
    raced: list[bool] = []

    def racing(index_dir: Path, generation: str):  # noqa: ANN202
        loaded = real(index_dir, generation) if after else None
        if not raced:
            raced.append(True)
            write_corpus(corpus, 3, "two")
            build_index(corpus, index)  # another writer switches the manifest and deletes the old generation
        return loaded if after else real(index_dir, generation)

    monkeypatch.setattr(retrieval, "load_generation", racing)


@pytest.mark.parametrize("after", [False, True], ids=["generation-deleted-while-opening", "switched-just-after"])
def test_a_reader_opening_during_a_reindex_gets_the_new_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: bool
):
    from bot import build_index
    from bot.retrieval import Index

    corpus, index = write_corpus(tmp_path / "corpus", 3, "one"), tmp_path / "index"
    build_index(corpus, index)
    Index.forget()
    _racing_load(monkeypatch, corpus, index, after)
    first = Index.open(index)  # raised "the lexical index … is unreadable" when the generation went under it
    texts = " ".join(c.text for c in Index.open(index).catalog.chunks.values())  # the next question
    assert "zebra marker two" in texts, "the reader kept the old index after the manifest changed"
    assert first is not None


# -- smaller: what a file name or a title holds forges no output line and reorders no text


def test_a_newline_in_a_file_name_forges_no_output_line(tmp_path: Path):
    from click.testing import CliRunner

    from bot.cli import main

    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "bad\nwarning: forged line.md").write_bytes(b"\x00\x01 not markdown")
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    lines = (result.stdout + result.stderr).splitlines()
    assert any(line.startswith("skipped: bad?warning: forged line.md: ") for line in lines), lines
    assert not any(line.startswith("warning: forged") for line in lines), lines


def test_a_title_with_a_newline_or_a_bidi_override_reaches_answers_as_one_plain_line(tmp_path: Path):
    from click.testing import CliRunner

    from bot.cli import main

    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"
    title = '"Quokka\\nerror: forged line \\u202eenil"'  # YAML escapes: a newline and a right-to-left override
    (corpus / "quokka.md").write_text(
        PAGE.format(title=title, n=7, rating="High", note="quokka marker", word="quokka"), "utf-8"
    )
    assert CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)]).exit_code == 0
    result = CliRunner().invoke(main, ["ask", "how tractable is Quokka? quokka marker", "--index", str(index)])
    assert result.exit_code == 0 and "quokka marker" in result.stdout, result.output
    assert not any(line.startswith("error: forged") for line in result.stdout.splitlines()), result.stdout
    assert "\u202e" not in result.stdout
