"""gating layer of ridad: Greenwave's decision API.

``greenwave`` (GreenwaveClient: the product versions of ridad's decision
context from ``GET /policies``, then a ``POST /decision`` per version, as
MBS asks; the answers as ``ridad.domain.gating`` values).
"""

__all__: list[str] = []
