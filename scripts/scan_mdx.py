"""Convert every page of an MDX wiki and report what the conversion met.

    .venv/bin/python scripts/scan_mdx.py [WIKI] [--show PAGE]

WIKI is a folder with ``docs/`` and ``data/`` (default: ../shared/wiki beside
the repo). Prints the number of pages, the seconds taken, the warnings by
kind, the pages whose output is empty, and any markup left in the output
(raw JSX tags, imports, Mermaid syntax, indented code blocks). ``--show PAGE``
prints one page's markdown instead (PAGE relative to ``docs/``).
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Markup that must never reach the markdown, by what it is.
LEFTOVERS = {
    "component tag": re.compile(r"</?[A-Z][\w.]*"),
    "<R id=": re.compile(r"<R id="),
    "import/export line": re.compile(r"^(?:import|export) ", re.M),
    "mermaid syntax": re.compile(r"-->|graph TD|^\s*(?:flowchart|graph)\b", re.M),
    "MDX comment": re.compile(r"\{/\*"),
    "client directive": re.compile(r"client:(?:load|idle|visible|only)"),
    "admonition fence": re.compile(r"^:::", re.M),
}


def body_of(path: Path) -> str:
    """The page without its front matter."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\s*\n.*?\n---\s*(?:\n|\Z)", text, re.S)
    return text[match.end() :] if match else text


def indented_code(markdown: str) -> int:
    """How many indented code blocks markdown-it finds (usually a dedent gone wrong)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    return sum(1 for t in tokens if t.type == "code_block")


def scan(wiki: Path) -> None:
    from bot.mdx import DataFolder, mdx_to_markdown

    pages = sorted(p for p in (wiki / "docs").rglob("*") if p.suffix in (".md", ".mdx"))
    data = DataFolder(wiki / "data")
    kinds: Counter[str] = Counter()
    empty: list[str] = []
    leftovers: list[str] = []
    start, cpu = time.perf_counter(), time.process_time()
    outputs = {}
    for page in pages:
        rel = page.relative_to(wiki / "docs").as_posix()
        markdown, warnings = mdx_to_markdown(body_of(page), data)
        outputs[rel] = markdown
        kinds.update(w.split(":", 1)[0] for w in warnings)
        if not markdown.strip():
            empty.append(rel)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    for rel, markdown in outputs.items():
        for what, pattern in LEFTOVERS.items():
            for match in pattern.finditer(markdown):
                line = markdown[markdown.rfind("\n", 0, match.start()) + 1 : markdown.find("\n", match.end())]
                leftovers.append(f"{rel}: {what}: {line.strip()[:120]}")
        if (n := indented_code(markdown)) and not rel.startswith("internal/"):
            leftovers.append(f"{rel}: indented code blocks: {n}")
    print(f"pages: {len(pages)}")
    print(f"seconds: {seconds:.2f} wall, {cpu:.2f} CPU (loading the data folder included)")
    print(f"warnings: {sum(kinds.values())}")
    for kind, count in kinds.most_common():
        print(f"  {count:5d}  {kind}")
    print(f"empty output: {len(empty)}")
    for rel in empty:
        print(f"  {rel}")
    print(f"leftover markup: {len(leftovers)}")
    for line in leftovers:
        print(f"  {line}")


def show(wiki: Path, page: str) -> None:
    from bot.mdx import DataFolder, mdx_to_markdown

    markdown, warnings = mdx_to_markdown(body_of(wiki / "docs" / page), DataFolder(wiki / "data"))
    print(markdown)
    for warning in warnings:
        print(f"WARNING {warning}", file=sys.stderr)


def main(argv: list[str]) -> None:
    args = [a for a in argv if a != "--show"]
    wiki = Path(args.pop(0)) if args and "--show" not in argv[:1] and Path(args[0]).is_dir() else ROOT.parent / "shared" / "wiki"
    if "--show" in argv:
        show(wiki, args[-1])
    else:
        scan(wiki)


if __name__ == "__main__":
    main(sys.argv[1:])
