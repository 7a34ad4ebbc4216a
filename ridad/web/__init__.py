"""The status page: server-rendered HTML of the module builds (Jinja2), each
build's page with live updates from its event stream, and a status badge per
module stream."""

__all__: list[str] = []
