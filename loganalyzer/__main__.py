"""``python -m loganalyzer`` runs the command line."""

from .cli import main

main()
