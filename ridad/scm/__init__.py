"""scm layer of ridad."""

__all__: list[str] = []
