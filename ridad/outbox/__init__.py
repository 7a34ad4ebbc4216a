"""Who fills and publishes the outbox: the rows that announce a change
(``announce``, written by ``transitions`` in its transaction) and the relay
that sends them to the broker, run as a leader job (``relay``)."""

__all__: list[str] = []
