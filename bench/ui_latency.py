"""Time from Enter to the complete grounded answer on screen, in Chromium.

Serves the chat UI on the shipped corpus (indexed into a temporary folder),
drives Debian's Chromium with Playwright, and for each question records the
time from the Enter key press (a keydown listener) to the moment the new
answer bubble holds its whole text (a MutationObserver). Prints p50/p90.

    .venv/bin/python bench/ui_latency.py [--corpus corpus] [--questions 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
QUESTIONS = [
    "is US-China cooperation possible?",
    "who should work on AI control?",
    "how tractable is guaranteed safe AI?",
    "are watermarks robust against attackers?",
    "what are the cruxes of model organisms?",
    "which approaches are rated high on tractability?",
    "is it neglected?",
    "why do whistleblower protections matter?",
    "what are responsible scaling policies?",
    "who should work on it?",
]

_WATCH = """n => { window.__done = new Promise(res => {
  const chat = document.querySelector('#chat');
  const box = document.querySelector('#question textarea');
  box.addEventListener('keydown', () => { window.__t0 = performance.now(); }, {once: true, capture: true});
  const done = () => { const m = chat.querySelectorAll('[data-testid="bot"]');
    return m.length > n && m[m.length - 1].innerText.trim().length > 2 && m[m.length - 1].innerText.trim() !== '…'; };
  const watcher = new MutationObserver(() => { if (done()) { watcher.disconnect(); res(performance.now() - window.__t0); } });
  watcher.observe(chat, {subtree: true, childList: true, characterData: true}); }); }"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from playwright.sync_api import sync_playwright

    from bot import build_index
    from bot.ui import serve

    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        index = Path(tmp) / "index"
        build_index(args.corpus, index)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = serve(index_dir=index, port=port, block=False)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}")
                page.wait_for_selector("#question textarea")
                times = []
                questions = (QUESTIONS * (args.questions // len(QUESTIONS) + 1))[: args.questions]
                for question in questions:
                    shown = page.locator('#chat [data-testid="bot"]').count()
                    page.fill("#question textarea", question)
                    page.evaluate(_WATCH, shown)
                    page.press("#question textarea", "Enter")
                    times.append(float(page.evaluate("() => window.__done")))
                    page.wait_for_timeout(300)
                browser.close()
        finally:
            demo.close()
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print("| questions | Enter → whole grounded answer on screen, p50 (ms) | p90 (ms) |")
    print("|---|---|---|")
    print(f"| {len(times)} | {statistics.median(times):.0f} | {p90:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
