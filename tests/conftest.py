"""Shared fixtures: real model, real Chroma, indexes built once per session in tmp."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
APPROACHES = SHARED / "approaches"
SEED = SHARED / "seed" / "international-coordination.md"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

needs_shared = pytest.mark.skipif(
    not APPROACHES.is_dir(), reason="../shared/approaches is absent (the shared corpus sits beside the repo in CI)"
)
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is absent")


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the developer's settings or cache: every ``BOT_*`` variable is
    cleared and the model's ONNX export goes to this session's own cache folder.
    Session-wide, so the session- and module-scoped indexes are isolated too; a
    test's own ``monkeypatch.setenv`` is undone after it, as usual."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("BOT_")]:
            patch.delenv(name)
        patch.setenv("BOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus indexed once per test session."""
    from bot import build_index

    index = tmp_path_factory.mktemp("shipped") / "index"
    build_index(CORPUS, index)
    return index


@pytest.fixture(scope="session")
def approaches_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 15 shared approach pages indexed once per test session."""
    if not APPROACHES.is_dir():
        pytest.skip("../shared/approaches is absent")
    from bot import build_index

    index = tmp_path_factory.mktemp("approaches") / "index"
    build_index(APPROACHES, index)
    return index


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def serving(index_dir: Path) -> Iterator[str]:
    """The chat UI served on a free loopback port, its URL; closed afterwards."""
    from bot.ui import serve

    port = free_port()
    demo = serve(index_dir=index_dir, port=port, block=False)
    yield f"http://127.0.0.1:{port}"
    demo.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
