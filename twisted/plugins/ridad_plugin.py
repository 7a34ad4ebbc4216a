"""twistd plugins: ``twistd ridad`` (the daemon)."""

from twisted.application.service import ServiceMaker

ridad = ServiceMaker(
    "ridad",
    "ridad.tap",
    "The module build orchestrator for Modularity",
    "ridad",
)
