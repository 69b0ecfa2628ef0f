"""The ``bot`` command: a thin edge over the library.

Exit status: 0 success, 1 failure (one clear line on stderr), 2 usage error,
3 partial success (``bot index`` skipped some files; the rest is indexed).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from bot import config
from bot.errors import BotError

EXIT_PARTIAL = 3

F = TypeVar("F", bound=Callable[..., Any])


def _edge(func: F) -> F:
    """Turn library errors into one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BotError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Index folder [default: $BOT_INDEX_DIR or ./index].",
)
chroma_option = click.option(
    "--chroma-url",
    default=None,
    help="Use a Chroma server (e.g. http://127.0.0.1:8000) [default: $BOT_CHROMA_URL].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(package_name="approach-bot")
def main(verbose: bool) -> None:
    """approach-bot: ask questions of AI-safety approach documents and get
    answers with cited passages from their tables."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for noisy in ("httpx", "chromadb", "sentence_transformers", "bm25s"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


@main.command("index")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(),
    default=None,
    help="Folder of .md documents [default: $BOT_CORPUS_DIR or ./corpus].",
)
@index_option
@chroma_option
@click.option("--rebuild", is_flag=True, help="Drop the index and build it again.")
@_edge
def index_cmd(corpus_dir: str | None, index_dir: str | None, chroma_url: str | None, rebuild: bool) -> None:
    """Index a folder of markdown documents (incrementally)."""
    from bot.indexing import build_index

    corpus = config.corpus_dir(corpus_dir)
    stats = build_index(corpus, index_dir, rebuild=rebuild, chroma_url=chroma_url, progress=True)
    for problem in stats.problems:
        status = "skipped" if problem.skipped else "warning"
        click.secho(f"{status}: {problem.path}: {problem.message}", fg="yellow", err=True)
    click.echo(
        f"indexed {stats.documents} documents, {stats.chunks} chunks in {stats.seconds:.1f}s: "
        f"{stats.added} added / {stats.updated} updated / {stats.removed} removed / "
        f"{stats.unchanged} unchanged ({stats.embedded} embedded)"
    )
    if stats.partial:
        click.secho(f"partial: {len(stats.skipped)} file(s) skipped", fg="yellow", err=True)
        sys.exit(EXIT_PARTIAL)


@main.command("ask")
@click.argument("question")
@index_option
@chroma_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@_edge
def ask_cmd(question: str, index_dir: str | None, chroma_url: str | None, as_json: bool) -> None:
    """Answer one QUESTION with cited passages."""
    from bot.chat import ask

    answer = ask(question, index_dir, chroma_url=chroma_url)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(answer.text)
    if answer.notice:
        click.secho(answer.notice, fg="yellow", err=True)
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            click.echo(f"  [{c.n}] {c.title} › {c.section} (score {c.score:.3f})")


@main.command("chat")
@index_option
@chroma_option
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(),
    default=None,
    help="Index this folder first if the index is missing or stale.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to serve on.")
@_edge
def chat_cmd(index_dir: str | None, chroma_url: str | None, corpus_dir: str | None, host: str, port: int) -> None:
    """Serve the chat UI in the browser."""
    if corpus_dir is not None:
        from bot.indexing import build_index

        stats = build_index(corpus_dir, index_dir, chroma_url=chroma_url, progress=True)
        for problem in stats.problems:
            click.secho(f"warning: {problem.path}: {problem.message}", fg="yellow", err=True)
        click.echo(f"index ready: {stats.documents} documents, {stats.chunks} chunks")
    from bot.ui import serve

    serve(index_dir=index_dir, chroma_url=chroma_url, host=host, port=port)


@main.command("eval")
@click.argument("prompts", type=click.Path())
@index_option
@click.option("--corpus", "corpus_dir", type=click.Path(), default=None, help="Index this folder first.")
@click.option("--k", default=3, show_default=True, type=int, help="Cut-off for recall@k.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the JSON report here.")
@click.option("--min-recall", type=float, default=None, help="Fail unless recall@k reaches this.")
@click.option("--min-phrases", type=float, default=None, help="Fail unless the phrase pass rate reaches this.")
@_edge
def eval_cmd(
    prompts: str,
    index_dir: str | None,
    corpus_dir: str | None,
    k: int,
    json_out: str | None,
    min_recall: float | None,
    min_phrases: float | None,
) -> None:
    """Run a YAML file of test PROMPTS and print the metrics."""
    from bot.evaluation import evaluate, to_json

    rep = evaluate(prompts, index=index_dir, corpus=corpus_dir, k=k, progress=True)
    m = rep.metrics
    click.echo(
        f"{m.cases} cases, {m.passed} passed: recall@{k} {m.recall_at_k:.3f}  MRR {m.mrr:.3f}  "
        f"phrases {m.phrase_pass:.3f}  abstention P {m.abstention_precision:.3f} R {m.abstention_recall:.3f}  "
        f"citations valid {m.citation_validity:.3f}  median {m.median_answer_chars:.0f} chars  "
        f"p50 {m.latency_p50_ms:.0f} ms"
    )
    if json_out:
        with open(json_out, "w", encoding="utf-8") as out:
            out.write(to_json(rep))
    missed = []
    if min_recall is not None and m.recall_at_k < min_recall:
        missed.append(f"recall@{k} {m.recall_at_k:.3f} < {min_recall}")
    if min_phrases is not None and m.phrase_pass < min_phrases:
        missed.append(f"phrase pass {m.phrase_pass:.3f} < {min_phrases}")
    if missed:
        click.secho("threshold missed: " + "; ".join(missed), fg="red", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
