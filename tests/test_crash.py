"""A re-index killed at any moment leaves an index that opens and answers, as before or as after."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import ChatSession, build_index
from bot.retrieval import Index
from tests.conftest import CORPUS, ROOT

TRIALS = 10
BEFORE, AFTER = "Engagement is superficial", "Engagement is for show"


def state(corpus: Path, which: str) -> None:
    """Write one of two versions of the corpus: many rows differ, a document comes and goes."""
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(CORPUS, corpus)
    if which == "after":
        for path in corpus.glob("*.md"):
            text = path.read_text("utf-8")
            text = text.replace(BEFORE, AFTER)
            # every table row of every page changes, so the re-index has real work to do
            text = "\n".join(line.replace(" |", " (revised) |", 1) if line.startswith("| ") and "---" not in line else line for line in text.splitlines())
            path.write_text(text, "utf-8")
        (corpus / "ai-control.md").unlink()


def reindex(corpus: Path, index: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "-v", "index", "--corpus", str(corpus), "--index", str(index)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def which_state(index: Path) -> str:
    Index.forget()
    catalog = Index.open(index).catalog
    texts = " ".join(c.text for c in catalog.chunks.values())
    if AFTER in texts and "(revised)" in texts and not any(c.doc_id == "ai-control" for c in catalog.chunks.values()):
        return "after"
    if BEFORE in texts and "(revised)" not in texts and any(c.doc_id == "ai-control" for c in catalog.chunks.values()):
        return "before"
    return "mixed"


@pytest.mark.slow
def test_sigkill_during_reindex_never_leaves_a_half_index(tmp_path: Path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    state(corpus, "before")
    build_index(corpus, index)
    # how long an uninterrupted re-index takes here, so the kills land all along it
    durations = []
    for target in ("after", "before"):
        state(corpus, target)
        started = time.monotonic()
        proc = reindex(corpus, index)
        proc.communicate()
        durations.append(time.monotonic() - started)
        assert which_state(index) == target
    full = min(durations)
    rng = random.Random(7)
    seen = []
    current = "before"
    for trial in range(TRIALS):
        target = "after" if current == "before" else "before"
        state(corpus, target)
        proc = reindex(corpus, index)
        if trial % 2:
            # odd trials: a random moment of the whole run (loading, parsing, embedding)
            delay = rng.uniform(0.3 * full, full)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
        else:
            # even trials: a random moment of the writing phase (store, lexical generation, manifest, deletes)
            assert proc.stderr is not None
            for line in proc.stderr:
                if b"writing the index" in line:
                    break
            delay = rng.uniform(0.0, 1.5)
            time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        found = which_state(index)
        assert found in ("before", "after"), f"trial {trial}: a half-written index is visible"
        answer = ChatSession(index).ask("is US-China cooperation possible?")
        assert answer.citations and answer.citations[0].section == "Crux 1: Is US-China Cooperation Possible?"
        seen.append((round(delay, 1), killed, found))
        current = found
    # the next run completes whatever was interrupted
    state(corpus, "after")
    stats = build_index(corpus, index)
    assert which_state(index) == "after" and stats.documents == len(list(corpus.glob("*.md")))
    print(f"full re-index {full:.1f} s; kill trials (delay s, killed, state seen):", seen)
    assert sum(1 for _, killed, _ in seen if killed) >= 5, seen
