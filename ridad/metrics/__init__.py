"""ridad's Prometheus metrics: one registry per process, owned by a
:class:`~ridad.metrics.instruments.Metrics` object that the composition root
makes and hands to what it instruments (``GET /metrics`` serves it)."""

__all__ = ["changes", "events", "instruments"]
