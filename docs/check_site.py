r"""Open the built site in headless Chromium and fail if a page is broken.

For every page of ``docs/_build/html`` (served on 127.0.0.1 by this script) it fails when

* the page asks for anything outside the site (a CDN, a font server, any other host);
* an image is missing or does not decode;
* raw TeX is visible (``\frac``, ``$$``, ... outside KaTeX's hidden MathML), or a page with
  math does not get KaTeX's own fonts (a missing stylesheet or font);

and saves a full-page screenshot of each page to ``docs/_build/screenshots``. Needs
Playwright's Python package and a Chromium binary (``/usr/bin/chromium`` from Debian, or
``$CHROMIUM``); Playwright's own browser download is never used.

    python docs/check_site.py [--html docs/_build/html] [--out docs/_build/screenshots]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path

DOCS = Path(__file__).resolve().parent
RAW_TEX = re.compile(r"\\(frac|begin|end|sum|partial|left|right|mathbf|operatorname|odot|langle)\b|\$\$")
VISIBLE_TEXT_JS = r"""
() => {
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "NOSCRIPT", "TEXTAREA"]);
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (skip.has(node.tagName) || node.classList.contains("katex-mathml")) return;
    if (getComputedStyle(node).display === "none") return;
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  return out.join(" ");
}
"""
BROKEN_IMAGES_JS = (
    "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
)
KATEX_FONT_JS = r"""
() => {
  const k = document.querySelector(".katex .mord, .katex .mop");
  if (!k) return null;
  return getComputedStyle(k).fontFamily + "|" + document.fonts.check("16px KaTeX_Main");
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root: Path):
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("check_site: no Chromium found; apt-get install chromium, or set $CHROMIUM")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check the built site in headless Chromium.")
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    pages = sorted(p.name for p in args.html.glob("*.html"))
    if "index.html" not in pages:
        raise SystemExit(f"check_site: {args.html} holds no built site (index.html missing)")
    args.out.mkdir(parents=True, exist_ok=True)
    httpd = serve(args.html)
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url) if not r.url.startswith((origin, "data:", "about:", "blob:")) else None
            ),
        )
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        for name in pages:
            outside.clear()
            failed.clear()
            page.goto(f"{origin}/{name}", wait_until="networkidle")
            page.evaluate("document.fonts.ready")
            text = page.evaluate(VISIBLE_TEXT_JS)
            tex = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
            broken = page.evaluate(BROKEN_IMAGES_JS)
            font = page.evaluate(KATEX_FONT_JS)
            n_math = page.evaluate("() => document.querySelectorAll('.katex').length")
            if outside:
                problems.append(f"{name}: asks for something outside the site: {sorted(set(outside))}")
            if failed:
                problems.append(f"{name}: failed requests: {sorted(set(failed))}")
            if tex:
                problems.append(f"{name}: raw TeX visible: {tex}")
            if broken:
                problems.append(f"{name}: broken images: {broken}")
            if font is not None and ("KaTeX" not in font or not font.endswith("true")):
                problems.append(f"{name}: math without KaTeX fonts ({font})")
            page.screenshot(path=str(args.out / f"{Path(name).stem}.png"), full_page=True)
            print(
                f"check_site: {name}: {n_math} formulas, {len(page.evaluate('() => document.images'))} "
                f"images, {'ok' if not any(p.startswith(name) for p in problems) else 'PROBLEMS'}"
            )
        browser.close()
    httpd.shutdown()
    for p in problems:
        print(f"check_site: FAIL {p}", file=sys.stderr)
    print(f"check_site: {len(pages)} pages checked, {len(problems)} problems; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
