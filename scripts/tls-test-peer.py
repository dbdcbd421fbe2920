#!/usr/bin/env python3
"""Real TLS peers for ClusterKit's tests, run with the venv of scripts/setup-zeek-client.sh.

  tls-test-peer.py echo-server CERT KEY
      A Python `websockets` server over TLS on 127.0.0.1 (ephemeral port): prints "port N" and echoes every
      message until it is killed.
  tls-test-peer.py old-tls-client PORT VERSION
      Python's ssl module offering only TLS VERSION (1.0 or 1.1, security level 0 so that the client itself
      allows it) to 127.0.0.1:PORT: prints "connected PROTOCOL" or "refused: REASON".
"""
import asyncio
import socket
import ssl
import sys


async def echo_server(cert, key):
    import websockets.asyncio.server as server

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    async def echo(connection):
        async for message in connection:
            await connection.send(message)

    async with server.serve(echo, "127.0.0.1", 0, ssl=context) as running:
        port = running.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        await asyncio.Future()


def old_tls_client(port, version):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    wanted = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}[version]
    context.minimum_version = wanted
    context.maximum_version = wanted
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                print(f"connected {tls.version()}", flush=True)
        except (ssl.SSLError, OSError) as error:
            print(f"refused: {error}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo-server":
        asyncio.run(echo_server(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "old-tls-client":
        old_tls_client(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
