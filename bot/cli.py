"""The ``bot`` command: a thin edge over the library.

Exit status: 0 success, 1 failure (one clear line on stderr), 2 usage error,
3 partial success (``bot index`` skipped some files; the rest is indexed).
"""

from __future__ import annotations

import errno
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
        finally:
            _settle()

    return wrapper  # type: ignore[return-value]


def _settle() -> None:
    """Let a model still loading in the background finish: leaving mid-load can abort."""
    try:
        from bot.embedding import Embedder

        Embedder.default().settle()
    except BotError:
        pass


def _unset_option(*names: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    """An option that is None unless given: the setting in bot/config.py then decides."""
    return click.option(*names, default=None, help=help, **kwargs)


# Options several commands share, each declared once.
index_option = _unset_option(
    "--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [default: $BOT_INDEX_DIR or ./index]."
)
chroma_option = _unset_option(
    "--chroma-url", help="Use a Chroma server (e.g. http://127.0.0.1:8000) [default: $BOT_CHROMA_URL]."
)
profile_option = _unset_option(
    "--profile",
    type=click.Path(dir_okay=False),
    help="The corpus profile, a YAML file [default: $BOT_PROFILE, else <corpus>/bot.yaml if there is one].",
)


def corpus_option(help: str) -> Callable[[F], F]:
    """``--corpus DIR``, with what the command does with the folder."""
    return _unset_option("--corpus", "corpus_dir", type=click.Path(), help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(package_name="approach-bot")
def main(verbose: bool) -> None:
    """approach-bot: ask questions of AI-safety approach documents and get
    answers with cited passages from their tables."""
    config.set_library_environment()  # before any library that reads it is imported
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for noisy in ("httpx", "chromadb", "sentence_transformers", "bm25s"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def _report_index(stats: Any) -> None:
    """Each problem once, labelled by what happened; the excluded files; the counts."""
    for problem in stats.problems:
        label = "skipped" if problem.skipped else "repaired" if "repaired" in problem.message else "warning"
        click.secho(f"{label}: {_printable(problem.path)}: {problem.message}", fg="yellow", err=True)
    if stats.excluded:
        names = ", ".join(_printable(p) for p in stats.excluded[:20])
        more = f" and {len(stats.excluded) - 20} more" if len(stats.excluded) > 20 else ""
        click.echo(f"excluded by the profile: {len(stats.excluded)} file(s): {names}{more}")
    click.echo(
        f"indexed {stats.documents} documents, {stats.chunks} chunks in {stats.seconds:.1f}s: "
        f"{stats.added} added / {stats.updated} updated / {stats.removed} removed / "
        f"{stats.unchanged} unchanged ({stats.embedded} embedded)"
    )


def _printable(text: str) -> str:
    """A file name as one line of plain text (a newline in a name cannot forge an output line)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@main.command("index")
@corpus_option("Folder of .md/.mdx documents [default: $BOT_CORPUS_DIR or ./corpus].")
@index_option
@chroma_option
@profile_option
@click.option("--rebuild", is_flag=True, help="Drop the index and build it again.")
@_edge
def index_cmd(
    corpus_dir: str | None, index_dir: str | None, chroma_url: str | None, profile: str | None, rebuild: bool
) -> None:
    """Index a folder of markdown/MDX documents (incrementally)."""
    from bot.indexing import build_index

    corpus = config.corpus_dir(corpus_dir)
    stats = build_index(
        corpus, index_dir, rebuild=rebuild, chroma_url=chroma_url, progress=True, profile=config.profile(profile)
    )
    _report_index(stats)
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
            click.echo(f"  [{c.n}] {c.path} (score {c.score:.3f})")


@main.command("chat")
@index_option
@chroma_option
@corpus_option("Index this folder first if the index is missing or stale.")
@profile_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to serve on.")
@_edge
def chat_cmd(
    index_dir: str | None, chroma_url: str | None, corpus_dir: str | None, profile: str | None, host: str, port: int
) -> None:
    """Serve the chat UI in the browser."""
    _check_address(host, port)
    if corpus_dir is not None:
        from bot.indexing import build_index

        stats = build_index(corpus_dir, index_dir, chroma_url=chroma_url, progress=True, profile=config.profile(profile))
        _report_index(stats)
    from bot.ui import is_loopback, serve

    auth = config.auth()
    if not is_loopback(host) and not auth:
        click.secho(
            f"warning: serving on {host} without authentication: anyone who can reach this address can use it "
            "(set BOT_AUTH=user:password)",
            fg="yellow",
            err=True,
        )
    click.echo(f"serving on http://{host}:{port}" + (" (login required)" if auth else ""))
    try:
        serve(index_dir=index_dir, chroma_url=chroma_url, host=host, port=port, auth=auth)
    except OSError as exc:  # the port was taken meanwhile, the address went away
        raise BotError(f"cannot serve on {host}:{port} ({exc}); choose another --port or --host") from exc


def _check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address the UI server cannot listen on, before loading anything."""
    import socket

    if ":" in host:
        raise BotError(f"--host {host!r}: the chat UI serves on IPv4 addresses only; use --host 0.0.0.0 (all) or 127.0.0.1")
    if not 0 < port < 65536:
        raise BotError(f"--port {port} is not a port number; choose one from 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a closed port in TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BotError(f"{host}:{port} is in use; choose another --port (or stop what serves there)") from None
            raise BotError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --host or --port") from None


class _DefaultGroup(click.Group):
    """A group whose first argument, when not a subcommand, goes to ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@main.group("eval", cls=_DefaultGroup)
def eval_group() -> None:
    """Evaluate answers with a YAML file of test prompts.

    `bot eval FILE` runs the prompts (same as `bot eval run FILE`);
    `bot eval generate CORPUS -o FILE` writes one prompt per table row;
    `bot eval coverage FILE` lists the table rows no prompt retrieves.
    """


@eval_group.command("run")
@click.argument("prompts", type=click.Path())
@index_option
@corpus_option("Index this folder first.")
@profile_option
@click.option("--k", default=3, show_default=True, type=int, help="Cut-off for recall@k.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the JSON report here.")
@click.option("--report", "report_out", type=click.Path(dir_okay=False), default=None,
              help="Write a markdown report here (and its chart as .png beside it).")
@click.option("--min-recall", type=float, default=None, help="Fail unless recall@k reaches this.")
@click.option("--min-mrr", type=float, default=None, help="Fail unless MRR reaches this.")
@click.option("--min-phrases", type=float, default=None, help="Fail unless the phrase pass rate reaches this.")
@click.option("--min-abstention", type=float, default=None, help="Fail unless abstention precision and recall reach this.")
@click.option("--min-citations", type=float, default=None, help="Fail unless this share of answers has valid citations.")
@click.option("--max-median-chars", type=float, default=None, help="Fail if the median answer is longer.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_edge
def eval_run(
    prompts: str,
    index_dir: str | None,
    corpus_dir: str | None,
    profile: str | None,
    k: int,
    json_out: str | None,
    report_out: str | None,
    min_recall: float | None,
    min_mrr: float | None,
    min_phrases: float | None,
    min_abstention: float | None,
    min_citations: float | None,
    max_median_chars: float | None,
    quiet: bool,
) -> None:
    """Run a YAML file of test PROMPTS and print the metrics."""
    from bot.evaluation import evaluate, fmt, to_json, write_report

    rep = evaluate(prompts, index=index_dir, corpus=corpus_dir, k=k, progress=not quiet, profile=config.profile(profile))
    m = rep.metrics
    click.echo(
        f"{m.cases} cases, {m.passed} passed\n"
        f"  recall@{k} {fmt(m.recall_at_k)} (documents {fmt(m.doc_recall_at_k)})   MRR {fmt(m.mrr)}   "
        f"phrases {fmt(m.phrase_pass)}\n"
        f"  abstention precision {fmt(m.abstention_precision)} recall {fmt(m.abstention_recall)}   "
        f"valid citations {m.citation_validity:.3f}   crux both sides {fmt(m.crux_balance)}\n"
        f"  answer length median {m.median_answer_chars:.0f} p90 {m.p90_answer_chars:.0f} chars   "
        f"latency p50 {m.latency_p50_ms:.0f} ms p95 {m.latency_p95_ms:.0f} ms"
    )
    for r in rep.failures[:5]:
        click.echo(f"  failing: {r.id}: {r.question}")
    if json_out:
        with open(json_out, "w", encoding="utf-8") as out:
            out.write(to_json(rep))
    if report_out:
        click.echo(f"report: {write_report(rep, report_out)}")
    checks = [
        (min_recall, m.recall_at_k, f"recall@{k}"),
        (min_mrr, m.mrr, "MRR"),
        (min_phrases, m.phrase_pass, "phrase pass"),
        (min_abstention, min(m.abstention_precision or 0.0, m.abstention_recall or 0.0), "abstention"),
        (min_citations, m.citation_validity, "valid citations"),
    ]
    missed = [
        f"{name} {fmt(value)} < {floor}"
        for floor, value, name in checks
        if floor is not None and (value is None or value < floor)
    ]
    if max_median_chars is not None and m.median_answer_chars > max_median_chars:
        missed.append(f"median answer {m.median_answer_chars:.0f} > {max_median_chars:.0f} chars")
    if missed:
        click.secho("threshold missed: " + "; ".join(missed), fg="red", err=True)
        sys.exit(1)


@eval_group.command("generate")
@click.argument("corpus", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The YAML file to write.")
@_edge
def eval_generate(corpus: str, output: str) -> None:
    """Write one test prompt per table row of CORPUS, each expecting its own row."""
    from bot.errors import CorpusError
    from bot.evaluation import generate_cases, write_cases

    cases = generate_cases(corpus)
    if not cases:
        raise CorpusError(f"no table rows in {corpus}")
    write_cases(cases, output)
    click.echo(f"wrote {len(cases)} prompts to {output}")


@eval_group.command("coverage")
@click.argument("prompts", type=click.Path())
@index_option
@click.option("--k", default=3, show_default=True, type=int, help="A row counts as covered in the top k citations.")
@_edge
def eval_coverage(prompts: str, index_dir: str | None, k: int) -> None:
    """List the table rows that no prompt of PROMPTS retrieves in its top k."""
    from bot.evaluation import coverage

    result = coverage(prompts, index=index_dir, k=k)
    click.echo(f"{result.covered} of {result.rows} table rows retrieved in the top {k} by some prompt")
    for row in result.missing:
        click.echo(f"  not covered: {row}")


if __name__ == "__main__":  # pragma: no cover
    main()
