"""Volume data for benchmarks: `python -m bench.generate --cases N [--database-url URL]`.

The same generator as `aftaleflow bench-data` (workflow/volume.py): realistic cases across
every process, body and state with about ten sealed events each, deadlines, meetings and
expenses, bulk-inserted; `aftaleflow audit verify` passes afterwards.
"""

from __future__ import annotations

import sys

from workflow.cli import main as cli


def main(argv: list[str] | None = None) -> None:
    """Run `aftaleflow [--database-url URL] bench-data --cases N`."""
    args = list(sys.argv[1:] if argv is None else argv)
    url: list[str] = []
    if "--database-url" in args:
        at = args.index("--database-url")
        url = args[at : at + 2]
        del args[at : at + 2]
    cli.main([*url, "bench-data", *args], prog_name="python -m bench.generate")


if __name__ == "__main__":
    main()
