"""The `aftaleflow` command's entry point (and `python -m workflow`'s).

The command's modules (the models, SQLAlchemy, click) are imported with the cyclic garbage
collector paused, for the reason workflow.startup gives: they are long-lived, and collecting
while they are made costs start-up time for nothing.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Import the command with the collector paused, then run it."""
    gc.disable()
    try:
        from workflow.cli import main as command
    finally:
        gc.enable()
    command()
