"""`python -m harness` is the `syncline` command."""

from harness.cli import main

main(prog_name="syncline")
