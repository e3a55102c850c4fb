r"""Open the built site in headless Chromium and fail if a page is broken.

For every page of ``docs/_build/html`` (served on 127.0.0.1 by this script) it fails when

* the page asks for anything outside the site (a CDN, a font server, any other host);
* an image is missing or does not decode;
* KaTeX could not render a formula (drawn in red), or raw TeX is visible (``\frac``, ``$$``,
  ... outside KaTeX's hidden MathML), or a page with math does not get KaTeX's own fonts (a
  missing stylesheet or font);
* the dark mode does not switch (the reader's system asks for dark: the page must turn dark,
  text light on a dark background);
* at a phone's width (390 px) the page is wider than the screen (wide equations, tables and
  code must scroll inside their own box), naming the widest elements;
* at 1280 px or at 390 px any content is *clipped*: an element whose content is wider than its
  box, where the box hides the rest instead of scrolling (``overflow: hidden`` or ``clip``, or
  a cell's text cut with an ellipsis), naming the element and how much is hidden;
* a page has no download link, or a chapter (a page with notebook cells) has no ``.ipynb``
  download that is a plain Jupyter notebook: valid JSON of nbformat 4 with cells, and no MyST
  left in it (``{glue:text}`` roles, ``{doc}`` references, ``(label)=`` targets, ``%`` comments,
  a ``myst_nb`` import; ``notebook_export.MYST_LEFTOVERS``);

and saves full-page screenshots of each page, light and dark at 1280 px and light at 390 px,
to ``docs/_build/screenshots`` (``<page>-light.png``, ``<page>-dark.png``, ``<page>-phone.png``). Needs
Playwright's Python package and a Chromium binary (``/usr/bin/chromium`` from Debian, or
``$CHROMIUM``); Playwright's own browser download is never used.

    python docs/check_site.py [--html docs/_build/html] [--out docs/_build/screenshots]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import sys
import threading
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
from notebook_export import MYST_LEFTOVERS  # noqa: E402 - a sibling folder of this script

WIDE, PHONE = 1280, 390  # the widths every page is checked at
RAW_TEX = re.compile(
    r"\\(frac|begin|end|sum|partial|left|right|mathbf|operatorname|odot|langle)\b|\$\$|\$[^$\s][^$\n]{0,40}\$"
)
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

THEME_JS = r"""
() => {
  const bg = getComputedStyle(document.body).backgroundColor;
  const fg = getComputedStyle(document.querySelector("article, main, body")).color;
  const lum = (c) => {
    const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };
  return [document.documentElement.dataset.theme || "", lum(bg), lum(fg)];
}
"""
# elements sticking out to the right of the screen, not inside a box that scrolls sideways
OVERFLOW_JS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {  // inside a box that scrolls, or that hides it (CLIPPED_JS reports those)
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (["auto", "scroll", "hidden", "clip"].includes(o) && p.clientWidth <= width) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).visibility === "hidden") continue;
    if (r.right > width + 1 && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} (${Math.round(r.right)} px)`);
    }
  }
  return [document.documentElement.scrollWidth, width, out.slice(0, 5)];
}
"""
# content wider than its box where the box hides the rest: no scroll bar, nothing sticks out
CLIPPED_JS = r"""
() => {
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".katex-mathml, .visually-hidden, .sr-only, .screen-reader-text")) continue;
    const s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden" || el.clientWidth <= 1) continue;
    if (el.offsetParent === null && s.position !== "fixed") continue;  // not rendered
    const hides = s.overflowX === "hidden" || s.overflowX === "clip";
    const cut = s.textOverflow === "ellipsis" && hides;
    const hidden = el.scrollWidth - el.clientWidth;
    if (hides && hidden > 1) {
      const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`;
      const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
      out.push(`${name} hides ${hidden} of ${el.scrollWidth} px${cut ? " (ellipsis)" : ""}: "${text}"`);
    }
  }
  return out;
}
"""
DOWNLOADS_JS = r"""
() => [
  Array.from(document.querySelectorAll("a[href]")).map(a => a.getAttribute("href"))
    .filter(h => /_sources\/|\.ipynb$/.test(h)),
  document.querySelectorAll("div.cell").length,
]
"""


def notebook_problems(status: int, text: str) -> list[str]:
    """What keeps a downloaded ``.ipynb`` from being a plain Jupyter notebook (empty: none)."""
    if status != 200:
        return [f"cannot be downloaded (HTTP {status})"]
    try:
        nb = json.loads(text)
    except ValueError:
        return ["is not JSON"]
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        return ["is not an nbformat 4 notebook with cells"]
    out = []
    for i, cell in enumerate(nb["cells"]):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        found = sorted({m.group(0).strip() for m in MYST_LEFTOVERS.finditer(source)})
        if found:
            out.append(f"cell {i + 1} ({cell.get('cell_type')}) holds MyST: {found[:4]}")
    return out


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
        outside: list[str] = []
        failed: list[str] = []

        def watch(page):
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if not r.url.startswith((origin, "data:", "about:", "blob:"))
                    else None
                ),
            )
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            return page

        light = watch(browser.new_page(viewport={"width": WIDE, "height": 900}, color_scheme="light"))
        dark = watch(browser.new_page(viewport={"width": WIDE, "height": 900}, color_scheme="dark"))
        phone = watch(
            browser.new_page(
                viewport={"width": PHONE, "height": 844}, color_scheme="light", is_mobile=True, has_touch=True
            )
        )
        for name in pages:
            outside.clear()
            failed.clear()
            stem = Path(name).stem
            mine: list[str] = []
            light.goto(f"{origin}/{name}", wait_until="networkidle")
            light.evaluate("document.fonts.ready")
            text = light.evaluate(VISIBLE_TEXT_JS)
            tex = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
            broken = light.evaluate(BROKEN_IMAGES_JS)
            font = light.evaluate(KATEX_FONT_JS)
            n_math = light.evaluate("() => document.querySelectorAll('.katex').length")
            katex_errors = light.evaluate(
                "() => Array.from(document.querySelectorAll('.katex-error')).map(e => e.title.slice(0, 80))"
            )
            if katex_errors:
                mine.append(f"{len(katex_errors)} formulas KaTeX could not render: {katex_errors[:3]}")
            n_images = light.evaluate("() => document.images.length")
            if tex:
                mine.append(f"raw TeX visible: {tex}")
            if broken:
                mine.append(f"broken images: {broken}")
            if font is not None and ("KaTeX" not in font or not font.endswith("true")):
                mine.append(f"math without KaTeX fonts ({font})")
            links, cells = light.evaluate(DOWNLOADS_JS)
            is_page = name not in ("genindex.html", "search.html", "py-modindex.html")
            if is_page and not links:
                mine.append("no download link")
            notebooks = [h for h in links if h.endswith(".ipynb")]
            if cells and not notebooks:
                mine.append(f"{cells} notebook cells but no .ipynb download")
            for href in notebooks:
                got = light.request.get(f"{origin}/{href.lstrip('./')}")
                mine += [f"the .ipynb download {href} {p}" for p in notebook_problems(got.status, got.text())]
            mine += [f"clipped at {WIDE} px: {c}" for c in light.evaluate(CLIPPED_JS)[:5]]
            light.screenshot(path=str(args.out / f"{stem}-light.png"), full_page=True)

            dark.goto(f"{origin}/{name}", wait_until="networkidle")
            dark.evaluate("document.fonts.ready")
            theme, bg, fg = dark.evaluate(THEME_JS)
            if theme != "dark" or not (bg < 0.25 < fg):
                mine.append(f"dark mode not applied (theme {theme!r}, background {bg:.2f}, text {fg:.2f})")
            dark.screenshot(path=str(args.out / f"{stem}-dark.png"), full_page=True)

            phone.goto(f"{origin}/{name}", wait_until="networkidle")
            phone.evaluate("document.fonts.ready")
            scroll_width, width, wide = phone.evaluate(OVERFLOW_JS)
            if scroll_width > width or wide:
                mine.append(f"wider than a {width} px phone ({scroll_width} px): {wide}")
            mine += [f"clipped at {PHONE} px: {c}" for c in phone.evaluate(CLIPPED_JS)[:5]]
            phone.screenshot(path=str(args.out / f"{stem}-phone.png"), full_page=True)

            if outside:
                mine.append(f"asks for something outside the site: {sorted(set(outside))}")
            if failed:
                mine.append(f"failed requests: {sorted(set(failed))}")
            problems += [f"{name}: {m}" for m in mine]
            print(
                f"check_site: {name}: {n_math} formulas, {n_images} images, "
                f"{len(notebooks)} notebook downloads, {'ok' if not mine else 'PROBLEMS'}"
            )
        browser.close()
    httpd.shutdown()
    for p in problems:
        print(f"check_site: FAIL {p}", file=sys.stderr)
    print(f"check_site: {len(pages)} pages checked, {len(problems)} problems; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
