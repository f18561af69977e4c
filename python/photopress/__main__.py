"""``python -m photopress``: the command."""

from ._cli import main

main()
