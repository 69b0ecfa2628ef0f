"""Indexing and asking through a real `chroma run` server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import ChatSession, build_index
from bot.errors import IndexMismatchError
from bot.retrieval import Index
from bot.store import MANIFEST, VectorStore

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is missing from the virtual environment")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(autouse=True)
def _own_collection(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("BOT_CHROMA_COLLECTION", f"test_{request.node.name[:40]}")


def test_index_and_ask_through_the_server(chroma_url: str, corpus_copy: Path, tmp_path: Path):
    index = tmp_path / "index"
    first = build_index(corpus_copy, index, chroma_url=chroma_url)
    assert first.added == first.chunks > 100
    assert not (index / "chroma").exists()  # the vectors live on the server
    manifest = json.loads((index / MANIFEST).read_text())
    assert manifest["chroma_url"] == chroma_url
    assert manifest["collection"].startswith("test_")
    assert VectorStore(index, chroma_url, manifest["collection"]).count() == first.chunks

    answer = ChatSession(index, chroma_url=chroma_url).ask("is US-China cooperation possible?")
    assert answer.citations[0].section == "Crux 1: Is US-China Cooperation Possible?"
    # the manifest remembers the server: opening without the URL still uses it
    Index.forget()
    assert ChatSession(index).ask("is US-China cooperation possible?").citations[0].doc_id == "international-coordination"

    seed = corpus_copy / "international-coordination.md"
    seed.write_text(seed.read_text("utf-8").replace("Engagement is superficial", "Engagement is for show"), "utf-8")
    (corpus_copy / "ai-control.md").unlink()
    again = build_index(corpus_copy, index, chroma_url=chroma_url)
    # the edited row and the window(s) holding it; the deleted page's chunks
    assert 2 <= again.updated == again.embedded <= 3 and again.removed > 20 and again.added == 0
    assert VectorStore(index, chroma_url, manifest["collection"]).count() == again.chunks


def test_the_manifest_is_checked_in_server_mode(chroma_url: str, shipped_index: Path, tmp_path: Path):
    index = tmp_path / "index"
    build_index(Path(__file__).parent.parent / "corpus", index, chroma_url=chroma_url)
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["chunker_version"] = "0"
    (index / MANIFEST).write_text(json.dumps(manifest))
    Index.forget()
    with pytest.raises(IndexMismatchError, match="bot index --rebuild"):
        Index.open(index, chroma_url)
