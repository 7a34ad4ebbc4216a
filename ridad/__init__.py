"""ridad: the module build orchestrator for Modularity."""

__version__ = "0.1.0"
__all__ = ["__version__"]
