"""`make screenshots`: the demo served on loopback, photographed by Debian's Chromium.

Logs in as each of a few demo roles and saves the key pages (dashboard, case list, a case, a
meeting, implementation) at desktop (1366 × 900) and phone (390 × 844) width as PNG files in
docs/screenshots/, named <role>-<page>-<width>.png. Pages longer than MAX_HEIGHT are cut there,
and the files are reduced to 256 colours (Pillow) to keep the repository small.

Run: .venv/bin/python tests/browser/screenshots.py [folder]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from browser_support import DEMO_PASSWORD, chromium, live_demo, log_in
from PIL import Image

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "docs" / "screenshots"
# A secretariat, the political chair, a member of a local SU and an observer: between them the
# pages each kind of user lives in.
ROLES = ["sekretariat.tss", "formand.sku", "medlem.su-nord-som", "observatoer.kkr"]
VIEWPORTS = {"desktop": (1366, 900), "mobil": (390, 844)}
MAX_HEIGHT = 2000
# Page name -> its path, or the list page whose first matching link leads to it.
PAGES: dict[str, tuple[str, str | None]] = {
    "overblik": ("/", None),
    "sager": ("/sager", None),
    "sag": ("/sager", r"^/sager/\d+$"),
    "moede": ("/moeder", r"^/moeder/\d+$"),
    "implementering": ("/implementering", None),
}

FIRST_LINK = """pattern => {
  const re = new RegExp(pattern);
  const link = [...document.querySelectorAll('main a[href]')]
    .find(a => re.test(a.getAttribute('href')));
  return link ? link.getAttribute('href') : null;
}"""


def photograph(base_url: str, browser: Browser, folder: Path) -> list[Path]:
    """Every role's key pages at every width; the files written."""
    written: list[Path] = []
    for login in ROLES:
        for width_name, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                locale="da-DK", viewport={"width": width, "height": height}
            )
            page = context.new_page()
            log_in(page, base_url, f"{login}@demo.aftaleflow.dk", DEMO_PASSWORD)
            for name, (path, link) in PAGES.items():
                page.goto(base_url + path)
                if link is not None:
                    target = page.evaluate(FIRST_LINK, link)
                    if target is None:
                        continue  # this role sees no such page
                    page.goto(base_url + target)
                full = page.evaluate("() => document.documentElement.scrollHeight")
                file = folder / f"{login.replace('.', '-')}-{name}-{width_name}.png"
                page.screenshot(
                    path=str(file),
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT)},
                )
                shrink(file)
                written.append(file)
            context.close()
    return written


def shrink(file: Path) -> None:
    """The screenshot in 256 colours: a third of the size, and text stays sharp."""
    with Image.open(file) as image:
        reduced = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    reduced.save(file, optimize=True)


def main(folder: Path = FOLDER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'demo.db'}"
        with live_demo(url) as base_url, chromium() as browser:
            for file in photograph(base_url, browser, folder):
                print(file.relative_to(ROOT) if file.is_relative_to(ROOT) else file)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
