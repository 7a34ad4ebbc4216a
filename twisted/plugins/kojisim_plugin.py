"""twistd plugin: ``twistd kojisim`` (the Koji hub simulator)."""

from twisted.application.service import ServiceMaker

kojisim = ServiceMaker(
    "kojisim",
    "ridad.kojisim.tap",
    "A Koji hub simulator for tests and development",
    "kojisim",
)
