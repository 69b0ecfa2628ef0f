"""Take the README's screenshots from the real page: the chat with its sources open,
on a desktop and on a phone.

    .venv/bin/python scripts/screenshot.py [--out docs] [--question "…"]

Indexes the shipped corpus into a temporary folder, serves the UI on a free
loopback port, asks a question in headless Chromium (Debian's /usr/bin/chromium)
and saves ``chat.png`` (1400×900) and ``chat-phone.png`` (390×844) in ``--out``.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"chat.png": (1400, 900), "chat-phone.png": (390, 844)}


def shoot(url: str, question: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, (width, height) in SIZES.items():
            phone = width < 700
            context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_selector("#question textarea")
            page.fill("#question textarea", question)
            page.click("#ask")
            page.wait_for_selector("#source-1-1")
            page.wait_for_timeout(800)
            page.eval_on_selector("#source-1-2", "e => { e.open = true }")
            page.screenshot(path=str(out / name), full_page=phone)
            context.close()
        browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for chat.png and chat-phone.png (default: docs/)")
    parser.add_argument("--question", default="Is US-China cooperation possible?", help="the question asked")
    args = parser.parse_args(argv)

    from bot import build_index
    from bot.ui import serve

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        build_index(ROOT / "corpus", Path(tmp) / "index")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = serve(index_dir=Path(tmp) / "index", port=port, block=False)
        try:
            shoot(f"http://127.0.0.1:{port}", args.question, out)
        finally:
            demo.close()
    print(f"wrote {', '.join(str(out / name) for name in SIZES)}")


if __name__ == "__main__":
    main(sys.argv[1:])
