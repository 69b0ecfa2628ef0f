"""Take the README's screenshot from the real page: the chat with its sources open.

    .venv/bin/python scripts/screenshot.py [docs/chat.png]

Indexes the shipped corpus into a temporary folder, serves the UI on a free
loopback port, asks a question in headless Chromium and saves a screenshot.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(out: str = "docs/chat.png") -> None:
    from playwright.sync_api import sync_playwright

    from bot import build_index
    from bot.ui import serve

    with tempfile.TemporaryDirectory() as tmp:
        build_index(ROOT / "corpus", Path(tmp) / "index")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = serve(index_dir=Path(tmp) / "index", port=port, block=False)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}", wait_until="load")
                page.wait_for_selector("#question textarea")
                page.fill("#question textarea", "Is US-China cooperation possible?")
                page.click("#ask")
                page.wait_for_selector("#source-1")
                page.wait_for_timeout(1500)
                page.eval_on_selector("#source-2", "e => { e.open = true }")
                page.screenshot(path=str(ROOT / out), full_page=False)
                browser.close()
        finally:
            demo.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
