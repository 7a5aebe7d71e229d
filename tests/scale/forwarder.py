"""A TCP forwarder for the scale test: PostgreSQL and Redis listen on 127.0.0.1 only, the test hosts (network
namespaces) reach them through this process, which listens on the host side of their veth pairs.

    python tests/scale/forwarder.py LISTEN_ADDRESS TARGET [TARGET ...]     (TARGET: host:port)

Each target gets a listening socket on LISTEN_ADDRESS (a port the kernel picks); one JSON line on stdout maps
"host:port" of each target to its port. A thread per direction copies bytes until either side closes. It runs
until it is killed (the test stops it in a finally).
"""

import contextlib
import json
import socket
import sys
import threading

CHUNK = 256 * 1024


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)


def _serve(listener: socket.socket, target: tuple[str, int]) -> None:
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(target)
        except OSError:
            client.close()
            continue
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def main(listen_address: str, targets: list[str]) -> None:
    ports = {}
    threads = []
    for spec in targets:
        host, _, port = spec.rpartition(":")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((listen_address, 0))
        listener.listen(256)
        ports[spec] = listener.getsockname()[1]
        threads.append(threading.Thread(target=_serve, args=(listener, (host, int(port))), daemon=True))
    for thread in threads:
        thread.start()
    print(json.dumps(ports), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
