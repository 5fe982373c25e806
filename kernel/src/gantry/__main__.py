"""``python -m gantry`` is the ``gantry`` command."""

from gantry.cli import main

if __name__ == "__main__":
    main()
