"""Who publishes the outbox: the relay that sends what ``transitions`` wrote
to the broker, run as a leader job."""

__all__: list[str] = []
