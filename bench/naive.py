"""Side by side: approach-bot against the standard LangChain RAG recipe.

The naive pipeline: front matter stripped, RecursiveCharacterTextSplitter
(chunk_size=1000, chunk_overlap=200) over the markdown/MDX files as they are,
the same embedding model, Chroma (cosine), top 4 chunks, and the answer = the
top 3 chunks stuffed together. It retrieves on the last message only and never
abstains. Each chunk is cited with the document it came from and the section
heading in force where the chunk starts. It reads the same files approach-bot
indexes (the corpus profile's extensions and exclusions), nothing more.

    python bench/naive.py evals/heldout/approaches.yaml --corpus ../shared/approaches
    python bench/naive.py evals/heldout/wiki.yaml --corpus ../shared/wiki/docs \
        --profile profiles/wiki.yaml --index /tmp/wiki-index --work /tmp/naive-wiki

prints both systems' metrics on the same prompt file, overall and per tag.
``--index`` reuses (or builds) approach-bot's index there; ``--work`` keeps the
naive Chroma store for the next run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.answer import Answer, Citation
from bot.embedding import Embedder
from bot.evaluation import Metrics, evaluate
from bot.profile import Profile, load_profile
from bot.retrieval import Index


class _Embeddings:
    """The model behind LangChain's Embeddings interface.

    Questions are embedded the standard way, by sentence-transformers (what
    LangChain's HuggingFaceEmbeddings calls), unless ``query_backend`` says
    otherwise; documents are embedded with the project's ONNX backend, which
    gives the same vectors (to ~1e-6) in less than half the time, so large
    benchmark corpora index in reasonable time.
    """

    def __init__(self, query_backend: str = "torch"):
        model = Embedder.default().model
        self.documents = Embedder(model, "auto")
        self.queries = Embedder(model, query_backend)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.documents.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.queries.embed_query(text).tolist()


def naive_pipeline(
    corpus: Path, workdir: Path, query_backend: str = "torch", profile: Profile | None = None
) -> Any:
    """Index ``corpus`` the standard way; return ``(ask(question) -> Answer, chunks)``.

    A ``workdir`` that already holds the store is reused as it is.
    ``ask.with_backend(name)`` is the same pipeline embedding questions with
    another backend ("auto": approach-bot's ONNX embedder)."""
    import chromadb
    from chromadb.config import Settings
    from langchain_chroma import Chroma

    reuse = (workdir / "chroma.sqlite3").is_file()
    client = chromadb.PersistentClient(path=str(workdir), settings=Settings(anonymized_telemetry=False))
    store = Chroma(
        client=client,
        collection_name="naive",
        embedding_function=_Embeddings(query_backend),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    if reuse:
        count = store._collection.count()
    else:
        docs = _split(corpus, profile or Profile())
        for start in range(0, len(docs), 5000):  # Chroma refuses batches above ~5,461
            store.add_documents(docs[start : start + 5000])
        count = len(docs)

    def ask(question: str) -> Answer:
        found = store.similarity_search_with_score(question, k=4)
        citations = [
            Citation(
                n=i,
                doc_id=d.metadata["doc_id"],
                title=d.metadata["title"],
                section=d.metadata["section"],
                text=d.page_content,
                score=1.0 - float(dist),
            )
            for i, (d, dist) in enumerate(found, start=1)
        ]
        text = "\n\n".join(f"{d.page_content} [{i}]" for i, (d, _) in enumerate(found[:3], start=1))
        return Answer(question=question, text=text, citations=citations[:3], abstained=False, query=question)

    def with_backend(backend: str) -> Any:
        store._embedding_function = _Embeddings(backend)
        return ask

    ask.with_backend = with_backend  # type: ignore[attr-defined]
    return ask, count


def _split(corpus: Path, profile: Profile) -> list[Any]:
    """The files approach-bot would index, front matter stripped, split 1000/200."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and profile.is_document(p.name)):
        rel = path.relative_to(corpus).as_posix()
        if profile.excluded(rel):
            continue
        raw = path.read_text("utf-8", errors="replace")
        match = re.match(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", raw, re.S)
        text = raw[match.end() :] if match else raw
        doc_id = rel.rsplit(".", 1)[0]
        title = next(iter(re.findall(r"^title:\s*[\"']?(.+?)[\"']?\s*$", match.group(1) if match else "", re.M)), doc_id)
        for piece in splitter.split_documents([Document(page_content=text, metadata={"doc_id": doc_id, "title": title})]):
            start = piece.metadata.get("start_index", 0)
            headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text[: start + 1], re.M)
            piece.metadata["section"] = headings[-1] if headings else "Overview"
            docs.append(piece)
    return docs


ROWS = [
    ("recall_at_k", "recall@3 (source with section)", "{:.3f}"),
    ("doc_recall_at_k", "recall@3 (document)", "{:.3f}"),
    ("mrr", "MRR", "{:.3f}"),
    ("phrase_pass", "phrase pass rate", "{:.3f}"),
    ("abstention_precision", "abstention precision", "{:.3f}"),
    ("abstention_recall", "abstention recall", "{:.3f}"),
    ("citation_validity", "valid citations", "{:.3f}"),
    ("median_answer_chars", "median answer (chars, lower is better)", "{:.0f}"),
    ("p90_answer_chars", "p90 answer (chars, lower is better)", "{:.0f}"),
    ("latency_p50_ms", "latency p50 (ms)", "{:.0f}"),
    ("latency_p95_ms", "latency p95 (ms)", "{:.0f}"),
]


def by_tag(ours: Any, naive: Any) -> str:
    """Per tag: both systems' section recall@3, document recall@3 and phrase pass
    (abstention recall for tags of abstaining cases)."""
    lines = [
        "| tag (cases) | recall@3 section | recall@3 document | phrases | abstention recall |",
        "|---|---|---|---|---|",
    ]

    def pair(a: float | None, b: float | None) -> str:
        show = ["–" if v is None else f"{v:.2f}" for v in (a, b)]
        flag = " ⚠" if a is not None and b is not None and b > a + 1e-9 else ""
        return f"{show[0]} / {show[1]}{flag}"

    for tag, mine in ours.by_tag.items():
        theirs = naive.by_tag[tag]
        lines.append(
            f"| {tag} ({mine.cases}) | {pair(mine.recall_at_k, theirs.recall_at_k)} | "
            f"{pair(mine.doc_recall_at_k, theirs.doc_recall_at_k)} | {pair(mine.phrase_pass, theirs.phrase_pass)} | "
            f"{pair(mine.abstention_recall, theirs.abstention_recall)} |"
        )
    return "\n".join(lines)


def table(ours: Metrics, naive: Metrics, cases: int) -> str:
    lines = [
        f"| metric ({cases} cases) | approach-bot | naive LangChain recipe |",
        "|---|---|---|",
    ]
    a, b = asdict(ours), asdict(naive)
    for key, label, spec in ROWS:
        show = [("n/a" if v[key] is None else spec.format(v[key])) for v in (a, b)]
        lines.append(f"| {label} | {show[0]} | {show[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prompts")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--profile", default=None, help="the corpus profile (YAML)")
    parser.add_argument("--index", default=None, help="approach-bot's index: reused, or built there")
    parser.add_argument("--work", default=None, help="keep the naive Chroma store here (reused when present)")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    profile = load_profile(corpus, args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        from bot import build_index

        index = Path(args.index) if args.index else Path(tmp) / "index"
        build_index(corpus, index, profile=profile)
        ours = evaluate(args.prompts, index=index)
        ask, chunks = naive_pipeline(corpus, Path(args.work) if args.work else Path(tmp) / "naive", profile=profile)
        naive = evaluate(args.prompts, session_factory=lambda: ask)
    print(table(ours.metrics, naive.metrics, ours.metrics.cases))
    print(f"\nBy tag (approach-bot / naive; ⚠ where the naive recipe scores higher):\n\n{by_tag(ours, naive)}")
    print(f"\nnaive pipeline: {chunks} chunks of ≤1000 characters; approach-bot: {Index.open(index).manifest.chunks} chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
