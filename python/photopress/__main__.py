"""``python -m photopress``: the command."""

from ._cli import main

if __name__ == "__main__":
    main()
