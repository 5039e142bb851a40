"""Copy the parts of DKFDS's `dist` that the pages load into templates/static/dkfds/.

Run by `make dkfds` after `npm ci` in this folder. Only the minified stylesheet and script,
the files the stylesheet points at (fonts, icons, images), the icon sprite and the licence are
copied: the SCSS sources, source maps and the borger.dk/virk.dk themes stay out of the repo.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIST = HERE / "node_modules" / "dkfds" / "dist"
TARGET = HERE.parent / "templates" / "static" / "dkfds"
ALWAYS = ["css/dkfds.min.css", "js/dkfds.min.js", "img/all-svg-icons.svg", "LICENSE.md"]
URL = re.compile(r"url\(\s*['\"]?\.\./([^'\")?#]+)")


def files_to_copy(dist: Path) -> list[str]:
    """The stylesheet, script, sprite, licence and every file the stylesheet refers to."""
    css = (dist / "css" / "dkfds.min.css").read_text(encoding="utf-8")
    return sorted(set(ALWAYS) | set(URL.findall(css)))


def main() -> int:
    if not DIST.is_dir():
        print(f"{DIST} mangler: kør 'npm ci' i {HERE}", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    for name in files_to_copy(DIST):
        destination = TARGET / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DIST / name, destination)
    version = (DIST.parent / "package.json").read_text(encoding="utf-8")
    found = re.search(r'"version":\s*"([^"]+)"', version)
    (TARGET / "VERSION").write_text((found.group(1) if found else "?") + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
