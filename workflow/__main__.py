"""Allow `python -m workflow` as a synonym for the `aftaleflow` command."""

from workflow.entry import main

main()
