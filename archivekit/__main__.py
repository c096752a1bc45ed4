"""`python -m archivekit` runs the CLI."""

from archivekit.cli import main

main()
