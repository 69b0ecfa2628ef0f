"""The command line, run as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def bot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def test_help_imports_no_heavy_package():
    code = (
        "import sys; from click.testing import CliRunner; from bot.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'bm25s') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_every_command_has_help():
    from click.testing import CliRunner

    from bot.cli import main

    for name, command in main.commands.items():
        assert command.help, name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_ask_json_round_trip(shipped_index: Path):
    result = bot("ask", "is US-China cooperation possible?", "--index", str(shipped_index), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"text", "citations", "abstained", "query"}
    first = data["citations"][0]
    assert set(first) >= {"n", "doc_id", "title", "section", "text", "score"}
    assert first["section"] == "Crux 1: Is US-China Cooperation Possible?" and first["n"] == 1
    assert "Mutual interest in avoiding catastrophe" in data["text"] and "Strategic competition too intense" in data["text"]
    assert data["abstained"] is False


def test_a_missing_index_is_one_line_and_exit_1(tmp_path: Path):
    result = bot("ask", "anything", "--index", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "bot index" in result.stderr


def test_a_bad_corpus_folder_is_one_line_and_exit_1(tmp_path: Path):
    result = bot("index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "index"))
    assert result.returncode == 1 and "corpus folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_index_reports_counts_and_partial_success(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("---\ntitle: Good\n---\n\n## Crux 1: Works?\n\n| Yes | No |\n|---|---|\n| a | b |\n")
    (corpus / "broken.md").write_bytes(b"\x00\x01\x02")
    result = bot("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.returncode == 3, result.stderr
    counts = re.search(r"1 documents, (\d+) chunks .*: (\d+) added / 0 updated / 0 removed / 0 unchanged", result.stdout)
    assert counts and counts.group(1) == counts.group(2), result.stdout
    assert "broken.md" in result.stderr and "binary" in result.stderr
