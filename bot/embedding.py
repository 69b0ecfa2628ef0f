"""Sentence embeddings from a local sentence-transformers model folder.

Two backends compute the same vectors (they agree to ~1e-6):

- ``onnx`` (the default): the model's transformer run by ONNX Runtime, the
  model's own ``tokenizer.json`` through ``tokenizers``, and the model's pooling
  and normalisation done in numpy. It needs neither torch nor
  sentence-transformers at run time: a question embeds in ~6 ms instead of
  ~17 ms and a process starts in under a second instead of ~10 s. The ONNX
  graph is the model's ``onnx/model.onnx`` when the folder ships one, else it
  is exported from the weights once (with torch) into ``BOT_CACHE_DIR``.
- ``torch``: sentence-transformers itself; used for models whose pooling the
  onnx backend does not reproduce, or when ``BOT_EMBED_BACKEND=torch``.

The model is loaded once per process (per folder and backend) and only when
first used, so importing this module is cheap.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot import config
from bot.errors import BotError

log = logging.getLogger(__name__)

BATCH_SIZE = 32
EXPORT_VERSION = "1"  # bump when the exported graph's inputs or outputs change

_models: dict[tuple[str, str], _Model] = {}
_loading: dict[tuple[str, str], threading.Thread] = {}
_lock = threading.Lock()


class _Model(Protocol):
    dimension: int

    def encode(self, texts: list[str], progress: bool) -> Any: ...


@dataclass(frozen=True)
class Embedder:
    """Embeds texts with one model; vectors are L2-normalized float32."""

    model: str
    backend: str = field(default_factory=config.embed_backend)

    @classmethod
    def default(cls) -> Embedder:
        """The configured model (``BOT_EMBED_MODEL`` or the shipped MiniLM)."""
        return cls(config.embed_model())

    @property
    def name(self) -> str:
        """A short, stable name for the manifest: the model folder's name."""
        path = Path(self.model)
        return path.parent.name if path.name == "model" else path.name

    @property
    def identity(self) -> str:
        """A digest of the model folder's configuration and weights: two models
        saved under one folder name differ here (recorded in the manifest)."""
        return model_identity(self.model)

    @property
    def dimension(self) -> int:
        return self._load().dimension

    def embed(self, texts: Sequence[str], progress: bool = False) -> Any:
        """Embed texts: a float32 array with one normalized row per text (kept
        as numpy, not Python lists: 100k vectors as lists would take gigabytes)."""
        if not texts:
            return []
        return self._load().encode(list(texts), progress)

    def embed_query(self, text: str) -> Any:
        """Embed one question."""
        return self.embed([text])[0]

    def preload(self) -> None:
        """Start loading the model in the background, so the caller can do
        other start-up work meanwhile; the first embed waits for it."""
        key = (self.model, self.backend)
        if key not in _models and key not in _loading:
            import numpy  # noqa: F401 - here, not in two threads at once: numpy's import is not thread-safe

            thread = _loading[key] = threading.Thread(target=self._quiet_load, name="load-model", daemon=True)
            thread.start()
            atexit.register(thread.join)  # a process leaving mid-load aborts (SIGABRT in ONNX Runtime's threads)

    def settle(self) -> None:
        """Wait for a background load to finish (before the process exits)."""
        thread = _loading.get((self.model, self.backend))
        if thread is not None:
            thread.join()

    def _quiet_load(self) -> None:
        try:
            self._load()
        except Exception:  # noqa: BLE001 - the first real embed raises it again, at the right place
            log.debug("background model load failed", exc_info=True)

    def _load(self) -> _Model:
        key = (self.model, self.backend)
        with _lock:
            model = _models.get(key)
            if model is None:
                model = _models[key] = _load_model(self.model, self.backend)
            return model


#: Of each weights file only its size and this many bytes at each end are read.
_EDGE_BYTES = 1 << 20
_identities: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def model_identity(path: str) -> str:
    """A short digest of a model folder: every configuration, tokenizer and
    weights file, by name and content (weights by size and their first and last
    megabyte, so a 400 MB model costs 2 MB of reading). Documentation files do
    not count. Remembered while the files' sizes and mtimes stay the same.

    Returns ``""`` when the folder cannot be read (loading it reports why).
    """
    folder = Path(path)
    try:
        files = sorted(
            p for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() != ".md"
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )  # fmt: skip
        stats = tuple((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError:
        return ""
    key = (str(folder.resolve()), stats)
    known = _identities.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    try:
        for p, (name, size, _) in zip(files, stats):
            digest.update(f"{name}\0{size}\0".encode())
            with p.open("rb") as handle:
                if size <= 2 * _EDGE_BYTES:
                    digest.update(handle.read())
                else:
                    digest.update(handle.read(_EDGE_BYTES))
                    handle.seek(size - _EDGE_BYTES)
                    digest.update(handle.read(_EDGE_BYTES))
    except OSError:
        return ""
    identity = _identities[key] = digest.hexdigest()[:16]
    return identity


def _load_model(path: str, backend: str) -> _Model:
    folder = Path(path)
    if not folder.is_dir():
        raise BotError(
            f"embedding model folder not found: {path} — set BOT_EMBED_MODEL to a local "
            "sentence-transformers folder (models are never downloaded)"
        )
    backend = config.embed_backend(backend)
    config.set_library_environment()  # before onnxruntime or tokenizers is first used: they read it then
    if backend != "torch":
        layout = _OnnxLayout.read(folder)
        if layout is not None:
            log.info("loading embedding model %s (onnx)", path)
            try:
                return _OnnxModel(layout)
            except OSError as exc:  # the export could not be written (a read-only cache)
                if backend == "onnx":
                    raise BotError(f"cannot export {path} to ONNX: {exc} — set BOT_CACHE_DIR to a writable folder") from exc
                log.warning("cannot export the model to ONNX (%s); using sentence-transformers instead", exc)
                return _TorchModel(path)
        if backend == "onnx":
            raise BotError(f"{path}: the onnx backend needs tokenizer.json and mean or CLS pooling")
    log.info("loading embedding model %s (torch)", path)
    return _TorchModel(path)


class _TorchModel:
    def __init__(self, path: str):
        from sentence_transformers import SentenceTransformer

        with _quiet_transformers():
            self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        get = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get() or 0)
        self.lock = threading.Lock()  # the tokenizer is not thread-safe

    def encode(self, texts: list[str], progress: bool) -> Any:
        with self.lock:
            vectors = self.model.encode(
                texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=progress
            )
        return vectors.astype("float32", copy=False)


@dataclass(frozen=True)
class _OnnxLayout:
    """What the onnx backend needs to know of a sentence-transformers folder."""

    folder: Path
    pooling: str  # "mean" or "cls"
    normalize: bool
    max_length: int

    @classmethod
    def read(cls, folder: Path) -> _OnnxLayout | None:
        """The layout, or None when the folder is not one the onnx backend reproduces."""
        try:
            modules = json.loads((folder / "modules.json").read_text("utf-8"))
            types = [m["type"].rsplit(".", 1)[-1] for m in modules]
            pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
            pooling = json.loads((folder / pooling_dir / "config.json").read_text("utf-8"))
            bert = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        except (OSError, ValueError, KeyError, StopIteration):
            return None
        if not (folder / "tokenizer.json").is_file() or set(types) - {"Transformer", "Pooling", "Normalize"}:
            return None
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
        mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(next(iter(modes), ""))
        if len(modes) != 1 or mode is None:
            return None
        return cls(folder, mode, "Normalize" in types, int(bert.get("max_seq_length") or 512))

    def graph(self) -> Path:
        """The ONNX graph: shipped with the model, else exported once into the cache."""
        shipped = self.folder / "onnx" / "model.onnx"
        if shipped.is_file():
            return shipped
        weights = sorted(p for p in self.folder.iterdir() if p.suffix in (".safetensors", ".bin"))
        stamp = [str(self.folder.resolve()), EXPORT_VERSION] + [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in weights]
        key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
        target = config.cache_dir() / "onnx" / key / "model.onnx"
        if not target.is_file():
            _export(self.folder, target)
        return target


class _OnnxModel:
    def __init__(self, layout: _OnnxLayout):
        from tokenizers import Tokenizer

        self.layout = layout
        graph = layout.graph()
        self.tokenizer = Tokenizer.from_file(str(layout.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(layout.max_length)
        self.tokenizer.no_padding()
        self.graph = graph
        self._sessions: dict[bool, Any] = {}
        self._session_lock = threading.Lock()
        session = self.session(bulk=False)
        self.inputs = {i.name for i in session.get_inputs()}
        self.dimension = int(session.get_outputs()[0].shape[-1])

    def session(self, bulk: bool) -> Any:
        """The inference session for a question's few texts or for a bulk run.

        ONNX Runtime's threads spin after each run by default. Between a
        question's runs that spinning takes the cores the vector scan's
        BLAS threads need (measured on the wiki: ask p50 23 ms spinning, 11.5
        ms not), while a bulk run is ~10% faster with it; so questions get a
        session that does not spin, and indexing one that does (made on first use)."""
        import onnxruntime

        with self._session_lock:
            if bulk not in self._sessions:
                options = onnxruntime.SessionOptions()
                options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "1" if bulk else "0")
                self._sessions[bulk] = onnxruntime.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])
            return self._sessions[bulk]

    def encode(self, texts: list[str], progress: bool) -> Any:
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # batches of like lengths pad little
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        session = self.session(bulk=len(texts) > BATCH_SIZE)
        bar = _progress(len(texts)) if progress else None
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            if self.layout.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if self.layout.normalize:
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[batch] = pooled
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """transformers' warnings and weight-loading bar off while a model loads, through
    its logging API (not its environment variables), and as they were afterwards."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="chunk")


def _export(folder: Path, target: Path) -> None:
    """Export the model's transformer to ONNX (once; needs torch and onnx)."""
    log.info("exporting %s to ONNX (once) into %s", folder, target.parent)
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise BotError("exporting the model to ONNX needs torch and transformers: set BOT_EMBED_BACKEND=torch") from exc

    class Hidden(torch.nn.Module):
        def __init__(self, base: Any):
            super().__init__()
            self.base = base

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.base(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    with _quiet_transformers():
        base = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(base),
            (sample, sample, torch.zeros_like(sample)),
            str(partial),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names + ["last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    os.replace(partial, target)
