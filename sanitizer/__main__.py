"""`python -m sanitizer` runs the CLI."""

from sanitizer.cli import main

main()
