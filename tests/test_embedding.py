"""The two embedding backends compute the same vectors; the ONNX one needs no torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot import config
from bot.embedding import Embedder, _load_model, _OnnxModel, _TorchModel
from bot.errors import BotError

from .conftest import ROOT

TEXTS = [
    "is US-China cooperation possible?",
    "",
    "International Coordination › Crux 1 — Position: Cooperation is possible | Evidence: " + "treaty verification " * 200,
    "Ünïcödé — “quotes” and émojis 🚀 | pipes | and `code`",
    "a",
]


def test_onnx_and_torch_backends_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOT_CACHE_DIR", str(tmp_path / "cache"))  # a fresh export, really run
    model = config.embed_model()
    onnx = _load_model(model, "onnx")
    torch = _load_model(model, "torch")
    assert isinstance(onnx, _OnnxModel) and isinstance(torch, _TorchModel)
    exported = list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))
    assert len(exported) == 1 and exported[0].stat().st_size > 10_000_000

    a, b = onnx.encode(TEXTS, False), torch.encode(TEXTS, False)
    assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
    assert np.abs(a - b).max() < 1e-4
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # one at a time (no padding) gives the same rows as the padded batch
    single = np.vstack([onnx.encode([t], False) for t in TEXTS])
    assert np.abs(single - a).max() < 1e-4
    # a bulk run (indexing) has a session of its own: its rows match a question's
    bulk = onnx.encode(TEXTS * 10, False)
    assert onnx.session(bulk=True) is not onnx.session(bulk=False)
    assert np.abs(bulk[: len(TEXTS)] - a).max() < 1e-4

    mtime = exported[0].stat().st_mtime_ns
    _load_model(model, "onnx")
    assert exported[0].stat().st_mtime_ns == mtime  # exported once, then reused


def test_a_pooling_onnx_cannot_reproduce_falls_back_to_torch(tmp_path: Path):
    source = Path(config.embed_model())
    model = tmp_path / "max-pooled"
    model.mkdir()
    for item in source.iterdir():
        if item.name != "1_Pooling":
            (model / item.name).symlink_to(item)
    (model / "1_Pooling").mkdir()
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))

    assert isinstance(_load_model(str(model), "auto"), _TorchModel)
    with pytest.raises(BotError, match="onnx backend needs"):
        _load_model(str(model), "onnx")
    with pytest.raises(BotError, match="BOT_EMBED_BACKEND"):
        _load_model(str(model), "tensorflow")


def test_the_embedder_follows_bot_embed_backend(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOT_EMBED_BACKEND", "torch")
    assert Embedder.default().backend == "torch"
    monkeypatch.delenv("BOT_EMBED_BACKEND")
    assert Embedder.default().backend == "auto"


def test_asking_never_imports_torch(shipped_index: Path):
    """A `bot ask` process stays light: ONNX Runtime, not torch or sentence-transformers."""
    code = (
        "import sys; from bot.chat import ask;"
        f"a = ask('is US-China cooperation possible?', index_dir={str(shipped_index)!r});"
        "assert a.citations, a.text;"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ}, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_an_unwritable_cache_falls_back_to_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BOT_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert isinstance(_load_model(config.embed_model(), "auto"), _TorchModel)
    with pytest.raises(BotError, match="BOT_CACHE_DIR"):
        _load_model(config.embed_model(), "onnx")
