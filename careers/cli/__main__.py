"""`python -m careers.cli` is the `careers` command."""

from careers.cli import main

main()
