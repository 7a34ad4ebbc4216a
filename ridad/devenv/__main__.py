"""Entry point of ``python -m ridad.devenv``."""

from ridad.devenv.main import run

__all__ = ["run"]

if __name__ == "__main__":
    run()
