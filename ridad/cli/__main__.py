"""``python -m ridad.cli``: the ``rida`` command without installing it."""

from ridad.cli.main import run

run()
