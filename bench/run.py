"""The benchmark behind `make bench`: approach-bot against its floor and the naive recipe.

Every figure is a ratio measured side by side in the same process and run:

* warm ``ask()`` p50/p95 against the floor (embedding the question with the same
  model + one Chroma query of the same k) and against the naive LangChain
  pipeline of bench/naive.py;
* full index build against pure embedding of the same chunk texts;
* re-index after editing one document against the full build;
* a cold ``bot ask`` process against importing sentence-transformers, loading
  the model and encoding once;
* peak RSS of a process that opens the index and answers questions;
* the re-index bookkeeping (which chunks changed, which to delete, which vectors
  to reuse) for 5k changed chunks at 100k stored.

    .venv/bin/python bench/run.py --sizes approaches,wiki,1000,10000,1000docs,100000 [--naive-up-to N] [--pure-up-to N] [--out FILE]

A size is a number of chunks (synthetic documents of ~35 chunks each),
``<n>docs``, a synthetic corpus of n documents measured for build, ask and
re-index only, ``approaches`` (../shared/approaches) or ``wiki`` (a temporary
copy of ../shared/wiki/docs with its data folder, indexed with
profiles/wiki.yaml; one page is edited for the re-index figure). For the
largest corpus it also measures a cold ``bot ask`` and the peak RSS of a
process answering from it, and of a real ``bot chat`` server answering 30
questions over HTTP.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

SHARED = ROOT.parent / "shared" / "approaches"
WIKI = ROOT.parent / "shared" / "wiki"
WIKI_PROFILE = ROOT / "profiles" / "wiki.yaml"
K = 30  # the depth of the dense query, in ask() and in the floor


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def questions(index: Any, n: int) -> list[str]:
    """Distinct, realistic questions drawn from the index's own documents: two in
    three name an approach ("How tractable is X?"), one in three asks a crux in
    its own words without naming one ("Is US-China cooperation possible?")."""
    docs = sorted(index.catalog.documents.values(), key=lambda d: d.doc_id)
    forms = [
        "How tractable is {title}?",
        "Who should work on {title}?",
        "What are the arguments for and against {title}?",
        "How neglected is {title}?",
        "Is {title} worth doing if alignment is hard?",
    ]
    cruxes = sorted(
        {
            re.sub(r"^crux\s*\d*\s*[:.]\s*", "", c.section, flags=re.IGNORECASE)
            for c in index.catalog.chunks.values()
            if c.section.lower().startswith("crux")
        }
    )
    out = []
    for i in range(n):
        if i % 3 == 2 and cruxes:
            out.append(cruxes[(i * 11) % len(cruxes)])
        else:
            doc = docs[(i * 7) % len(docs)]
            out.append(forms[i % len(forms)].format(title=doc.title))
    return out


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(
    name: str,
    corpus: Path,
    work: Path,
    n_questions: int,
    naive: bool,
    edit: bool,
    pure: bool = True,
    reuse: bool = False,
    profile: Path | None = None,
) -> dict[str, Any]:
    import bm25s  # noqa: F401
    import chromadb  # noqa: F401 - imported before timing, like the model is warmed

    from bot import ChatSession, build_index
    from bot.embedding import Embedder
    from bot.markdown import load_corpus
    from bot.profile import load_profile
    from bot.retrieval import Index

    embedder = Embedder.default()
    embedder.embed(["warm up"])
    chosen = load_profile(corpus, profile)
    texts = [c.text for d in load_corpus(corpus, profile=chosen).documents for c in d.chunks]
    index_dir = work / f"index-{name}"
    if reuse and (index_dir / "manifest.json").is_file():  # --reuse: ask, naive and RSS figures only
        pure_ms = build = float("nan")
        edit = False
    else:
        pure_ms = timed(lambda: embedder.embed(texts)) if pure else float("nan")
        build = timed(lambda: build_index(corpus, index_dir, embedder=embedder, profile=chosen))
    row: dict[str, Any] = {"corpus": name, "chunks": len(texts), "build_s": build / 1000, "pure_embed_s": pure_ms / 1000}

    Index.forget()
    opened_ms = timed(lambda: Index.open(index_dir))
    index = Index.open(index_dir)
    from bot.lexical import Lexical

    lexical_load_ms = timed(lambda: Lexical.load(index_dir / index.manifest.lexical))
    asks, floors = [], []
    qs = questions(index, n_questions)
    for q in qs[:3]:  # warm
        ChatSession(index_dir).ask(q)
    lexical_ms = [0.0]
    search = Lexical.search

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return search(self, *args, **kwargs)
        finally:
            lexical_ms[0] += (time.perf_counter() - start) * 1000

    Lexical.search = counted  # type: ignore[method-assign]
    try:
        for q in qs:
            floors.append(timed(lambda q=q: index.store.query(embedder.embed_query(q), K)))
            asks.append(timed(lambda q=q: ChatSession(index_dir).ask(q)))
    finally:
        Lexical.search = search  # type: ignore[method-assign]
    row.update(
        ask_p50=statistics.median(asks),
        ask_p95=pct(asks, 0.95),
        floor_p50=statistics.median(floors),
        floor_p95=pct(floors, 0.95),
        lexical_share=lexical_ms[0] / sum(asks),
        open_ms=opened_ms,
        lexical_load_ms=lexical_load_ms,
    )
    if naive:
        from naive import naive_pipeline

        ask_naive, _ = naive_pipeline(corpus, work / f"naive-{name}", profile=chosen)
        for q in qs[:3]:
            ask_naive(q)
        naive_times = [timed(lambda q=q: ask_naive(q)) for q in qs]
        fast = ask_naive.with_backend("auto")
        for q in qs[:3]:
            fast(q)
        fast_times = [timed(lambda q=q: fast(q)) for q in qs]
        row.update(
            naive_p50=statistics.median(naive_times),
            naive_p95=pct(naive_times, 0.95),
            naive_onnx_p50=statistics.median(fast_times),
        )
    if edit:
        from synthetic import edit_one

        edit_one(corpus) if profile is None else edit_page(corpus)
        row["reindex_s"] = timed(lambda: build_index(corpus, index_dir, embedder=embedder, profile=chosen)) / 1000
        row["documents"] = len(load_corpus(corpus, profile=chosen).documents)
    return row


def edit_page(folder: Path) -> Path:
    """Reword one table cell of the first page (in sorted order) that has a table."""
    for path in sorted(folder.rglob("*.mdx")):
        text = path.read_text("utf-8")
        match = re.search(r"^\|[^\n]*\|\s*$", text[text.find("|---") + 4 :] if "|---" in text else "", re.M)
        if match:
            row = match.group(0)
            path.write_text(text.replace(row, row.rstrip().rstrip("|") + " (edited) |", 1), "utf-8")
            return path
    raise FileNotFoundError(f"no page with a table under {folder}")


def chat_rss(index_dir: Path, n: int = 30) -> float:
    """Peak RSS (MB) of a real `bot chat` server after answering ``n`` questions over HTTP."""
    import socket

    from run import questions

    from bot.retrieval import Index

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--index", str(index_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from gradio_client import Client

        deadline = time.time() + 180
        while True:
            try:
                client = Client(f"http://127.0.0.1:{port}", verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.time() > deadline:
                    raise
                time.sleep(1)
        for q in questions(Index.open(index_dir), n):
            client.predict(q, api_name="/ask")
        status = Path(f"/proc/{server.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait(30)


def cold(index_dir: Path, model: str) -> dict[str, float]:
    """A cold `bot ask` process against importing, loading the model and encoding once."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    floor_code = (
        "from sentence_transformers import SentenceTransformer;"
        f"m = SentenceTransformer({model!r}, device='cpu', local_files_only=True); m.encode(['is cooperation possible?'])"
    )
    onnx_code = "from bot.embedding import Embedder; Embedder.default().embed(['is cooperation possible?'])"
    ask_cmd = [sys.executable, "-m", "bot", "ask", "Is US-China cooperation possible?", "--index", str(index_dir)]
    asks, floors, onnx = [], [], []
    for _ in range(3):
        floors.append(timed(lambda: subprocess.run([sys.executable, "-c", floor_code], env=env, check=True, capture_output=True)))
        onnx.append(timed(lambda: subprocess.run([sys.executable, "-c", onnx_code], env=env, check=True, capture_output=True)))
        asks.append(timed(lambda: subprocess.run(ask_cmd, env=env, check=True, capture_output=True)))
    return {
        "cold_ask_s": statistics.median(asks) / 1000,
        "cold_floor_s": statistics.median(floors) / 1000,
        "cold_onnx_s": statistics.median(onnx) / 1000,
    }


def peak_rss(index_dir: Path) -> float:
    """Peak RSS (MB) of a process that opens the index and answers 30 questions (named and unnamed)."""
    # VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss into a forked and exec'd child
    code = (
        "import re; from bot import ChatSession; from bot.retrieval import Index;"
        f"i = Index.open({str(index_dir)!r}); from run import questions;"
        "[ChatSession(i.index_dir).ask(q) for q in questions(i, 30)];"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "bench")}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def bookkeeping(stored: int = 100_000, changed: int = 5_000, runs: int = 5) -> float:
    """Seconds (median of ``runs``) of the re-index bookkeeping — bot.indexing.plan_changes, the
    very function ``build_index`` calls — with ``changed`` of ``stored`` chunks edited in place.
    Synthetic ids and hashes: nothing is parsed, embedded or stored, so this is the bookkeeping alone."""
    import hashlib

    from bot.indexing import plan_changes
    from bot.markdown import Chunk
    from bot.store import StoredChunk

    def chunk(i: int, version: int) -> Chunk:
        doc_id, position = f"doc-{i // 35:05d}", i % 35
        digest = hashlib.sha256(f"{i}:{version}".encode()).hexdigest()
        return Chunk(f"{doc_id}::{position:05d}::{digest[:12]}", doc_id, "T", "S", "row", "", "", position, digest)

    before = [chunk(i, 0) for i in range(stored)]
    now = [chunk(i, 1) if i % (stored // changed) == 0 else c for i, c in enumerate(before)][:stored]
    held = {c.chunk_id: StoredChunk(c.chunk_id, c.doc_id, c.position, c.text_hash) for c in before}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        changes = plan_changes(now, held)
        times.append(time.perf_counter() - started)
    assert changes.updated == len(changes.stale) == changed and changes.unchanged == stored - changed, changes
    return statistics.median(times)


def _chunks_of(work: Path, corpus: Path) -> int:
    """The chunk count in the name of an earlier run's index of ``corpus``."""
    import json

    for manifest in sorted(work.glob("index-synthetic-*/manifest.json")):
        data = json.loads(manifest.read_text("utf-8"))
        if Path(data.get("corpus", "")).resolve() == corpus.resolve():
            return int(manifest.parent.name.rsplit("-", 1)[1])
    raise SystemExit(f"--reuse: no index of {corpus} in {work}")


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu or platform.processor()}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def build_ratio(r: dict[str, Any]) -> str:
    if r["build_s"] != r["build_s"]:  # NaN: an index reused from an earlier run
        return "index reused"
    if r["pure_embed_s"] != r["pure_embed_s"]:  # NaN: not measured
        return f"not measured (build {r['build_s']:.0f} s)"
    return f"{r['build_s'] / r['pure_embed_s']:.2f}× ({r['build_s']:.1f} s / {r['pure_embed_s']:.1f} s)"


def table(rows: list[dict[str, Any]], extra: dict[str, Any]) -> str:
    lines = [
        "| corpus | chunks | ask p50 / floor | ask p95 / floor p95 | ask p50 / naive p50 | ask p50 / naive p50, its questions embedded by our ONNX embedder | ask p50 (ms) | floor p50 (ms) | full build / pure embedding | re-index one doc / full build | BM25 share of ask | open index (BM25 load) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        naive = f"{r['ask_p50'] / r['naive_p50']:.2f}×" if "naive_p50" in r else "not run"
        naive_onnx = f"{r['ask_p50'] / r['naive_onnx_p50']:.2f}×" if "naive_onnx_p50" in r else "not run"
        reindex = (
            f"{100 * r['reindex_s'] / r['build_s']:.2f}% ({r['reindex_s']:.1f} s, {r['documents']} docs)" if "reindex_s" in r else "—"
        )
        lines.append(
            f"| {r['corpus']} | {r['chunks']} | {r['ask_p50'] / r['floor_p50']:.2f}× | {r['ask_p95'] / r['floor_p95']:.2f}× | "
            f"{naive} | {naive_onnx} | {r['ask_p50']:.1f} | {r['floor_p50']:.1f} | {build_ratio(r)} | {reindex} | "
            f"{100 * r['lexical_share']:.1f}% | {r['open_ms']:.0f} ms ({r['lexical_load_ms']:.0f} ms) |"
        )
    if "cold_ask_s" in extra:
        lines.append("")
        lines.append(
            f"Cold `bot ask` process: {extra['cold_ask_s']:.2f} s against a floor of {extra['cold_floor_s']:.2f} s "
            f"(import sentence-transformers, load the model, encode once): {extra['cold_ask_s'] / extra['cold_floor_s']:.2f}×; "
            f"the same with our ONNX embedder alone takes {extra['cold_onnx_s']:.2f} s."
        )
    if "bookkeeping_s" in extra:
        lines.append(
            f"Re-index bookkeeping for 5k changed chunks at 100k stored: {1000 * extra['bookkeeping_s']:.0f} ms "
            "(bot.indexing.plan_changes on synthetic ids and hashes, median of 5)."
        )
    if "rss_mb" in extra:
        lines.append(f"Peak RSS of a process serving the {extra['rss_corpus']} index: {extra['rss_mb']:.0f} MB.")
    if "chat_rss_mb" in extra:
        lines.append(f"Peak RSS of `bot chat` on that index after 30 questions over HTTP: {extra['chat_rss_mb']:.0f} MB.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="approaches,1000,10000")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--naive-up-to", type=int, default=10000, help="run the naive pipeline up to this many chunks")
    parser.add_argument("--pure-up-to", type=int, default=10**9, help="time pure embedding up to this many chunks")
    parser.add_argument("--out", default=None, help="also write the table to this markdown file")
    parser.add_argument("--keep", default=None, help="build in this folder and keep it (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="with --keep: reuse indexes built there by an earlier run")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from synthetic import generate

    from bot import config

    rows, extra = [], {"bookkeeping_s": bookkeeping()}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
        largest = None
        for size in sizes:
            profile = None
            if size == "wiki":
                if not WIKI.is_dir():
                    print("skipping wiki: ../shared/wiki is absent", file=sys.stderr)
                    continue
                corpus = work / "wiki" / "docs"
                if not corpus.is_dir():  # a copy, so one page can be edited; read, never committed
                    shutil.copytree(WIKI / "docs", corpus)
                    (work / "wiki" / "data").symlink_to(WIKI / "data")
                name, chunks, profile = "wiki (498 pages)", 0, WIKI_PROFILE
            elif size == "approaches":
                if not SHARED.is_dir():
                    print("skipping approaches: ../shared/approaches is absent", file=sys.stderr)
                    continue
                corpus = work / "approaches"
                shutil.copytree(SHARED, corpus)
                name, chunks = "shared approaches (15 pages)", 0
            else:
                from synthetic import documents_for

                n_docs = int(size[: -len("docs")]) if size.endswith("docs") else documents_for(int(size))
                corpus = work / f"synthetic-{n_docs}"
                chunks = generate(corpus, n_docs) if not (args.reuse and corpus.is_dir()) else _chunks_of(work, corpus)
                name = f"synthetic {n_docs} docs"
            print(f"measuring {name} …", file=sys.stderr, flush=True)
            row = measure(
                name.split(" ")[0] + (f"-{chunks}" if chunks else ""),
                corpus,
                work,
                args.questions,
                naive=(chunks or 0) <= args.naive_up_to and not size.endswith("docs"),
                edit=chunks > 0 or profile is not None,
                pure=(chunks or 0) <= args.pure_up_to and not size.endswith("docs"),
                reuse=args.reuse,
                profile=profile,
            )
            row["corpus"] = name
            rows.append(row)
            idx = next(work.glob(f"index-{name.split(' ')[0]}{'-' + str(chunks) if chunks else ''}"))
            if largest is None or row["chunks"] >= largest[2]:
                largest = (idx, name, row["chunks"])
            print(table(rows, {}), file=sys.stderr, flush=True)
        if largest is not None:
            extra.update(cold(largest[0], config.embed_model()))
            extra["rss_mb"] = peak_rss(largest[0])
            extra["chat_rss_mb"] = chat_rss(largest[0])
            extra["rss_corpus"] = largest[1]
    result = table(rows, extra)
    print(result)
    print(f"\nMachine: {machine()}")
    if args.out:
        Path(args.out).write_text(
            f"# Latest `bench/run.py` output\n\nMachine: {machine()}\n\nCommand: `.venv/bin/python bench/run.py {' '.join(argv or sys.argv[1:])}`\n\n{result}\n",
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
