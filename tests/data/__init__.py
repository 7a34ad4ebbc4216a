"""The tests' own data: the modulemd corpus and the recorded Koji exchanges.

Both are copies kept in the repository so that a fresh clone tests itself:
``modulemd-corpus/`` holds real documents with libmodulemd's verdicts
(``README.txt``), ``koji-recordings/`` raw HTTP exchanges with a real Koji
1.35.3 hub (``README.md``).
"""

from pathlib import Path

__all__ = ["DATA", "MODULEMD_CORPUS", "KOJI_RECORDINGS"]

DATA = Path(__file__).resolve().parent
MODULEMD_CORPUS = DATA / "modulemd-corpus"
KOJI_RECORDINGS = DATA / "koji-recordings"
