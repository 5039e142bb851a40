"""Allow `python -m workflow` as a synonym for the `aftaleflow` command."""

from workflow.cli import main

main()
