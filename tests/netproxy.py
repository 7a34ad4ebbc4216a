"""A TCP proxy for tests that cut or freeze the network between a client and
a server (PostgreSQL, say) while both ends stay up."""

from __future__ import annotations

from typing import Any

from twisted.protocols.portforward import ProxyFactory, ProxyServer


class FreezableProxy(ProxyFactory):
    """A TCP proxy whose open connections can be frozen, like a network cut."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.servers: list[ProxyServer] = []

    def buildProtocol(self, addr: Any) -> ProxyServer:
        """Remember each proxied connection."""
        server = super().buildProtocol(addr)
        self.servers.append(server)
        return server

    def freeze(self) -> None:
        """Stop moving bytes either way on every open connection."""
        for server in self.servers:
            server.transport.pauseProducing()
            if server.peer is not None:
                server.peer.transport.pauseProducing()

    def cut(self) -> None:
        """Close every proxied connection at once."""
        for server in self.servers:
            server.transport.abortConnection()
            if server.peer is not None:
                server.peer.transport.abortConnection()
