"""The developer demo environment behind ``make run``.

``python -m ridad.devenv --dir .run`` creates, once, a state directory with
bare git repositories for a demo module and its rpm components and a
development ``ridad.yaml``; then, on every run, it serves the repositories
with ``git daemon``, starts a private ActiveMQ, kojisim and the ridad daemon
under twistd, and prints the curl commands that submit the demo module build.
``python -m ridad.devenv.listen`` prints ridad's bus messages as they arrive.
"""

__all__ = ["broker", "content", "environment", "listen", "main", "services"]
