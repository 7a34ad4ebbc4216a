"""Who holds the scheduler lock, and what the holder runs: the lock and
lease (``lock``), the service that runs the leader's jobs while the lock is
held (``service``) and the poll loop of each job (``poll``)."""

__all__: list[str] = []
