"""``python -m app`` works like the ``backprop-playground`` command."""

from app.cli import main

main()
