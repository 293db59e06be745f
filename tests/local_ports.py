"""A port on 127.0.0.1 that nothing listens on, for a server a test starts or a refusal it wants."""

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
