#!/usr/bin/python3
#
# ws_interop.py -- the other side of tests/ws_interop.test: Debian's
# python3-websockets (10.x) as a client of nsd's WebSockets, and as a
# server for ws::client::*.  Run with /usr/bin/python3.
#
#   ws_interop.py echo URL [CAFILE]   talk to an echo service; one line per check
#   ws_interop.py chat URL N          N clients of NaviServer's chat: who got what
#   ws_interop.py server [CERT KEY]   serve on 127.0.0.1, port 0; prints "port N"
#
# The server's paths: /echo echoes each message with its type; /ping
# pings with a payload and says "pong <payload>" when the pong came;
# /bye sends "bye" and closes with 4001 "done".  Every step has a
# timeout, so that nothing here can hang a test.
#

import asyncio
import ssl
import sys

import websockets

TIMEOUT = 10


def client_ssl(url, cafile):
    if not url.startswith("wss:"):
        return None
    context = ssl.create_default_context(cafile=cafile)
    return context


async def echo(url, cafile=None):
    async with websockets.connect(url, ssl=client_ssl(url, cafile), max_size=None,
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        for message in ["hello", "gr\u00fc\u00df \u20ac \U0001f600", "", b"\x00\xff\x80",
                        b"", "x" * 70000, bytes(range(256)) * 4096]:
            await ws.send(message)
            back = await asyncio.wait_for(ws.recv(), TIMEOUT)
            kind = "text" if isinstance(message, str) else "binary"
            print(kind, len(message), "same" if back == message else "different", flush=True)
        # Fragmented messages: an iterable of frames.
        await ws.send(["frag", "mented"])
        print("fragmented", await asyncio.wait_for(ws.recv(), TIMEOUT), flush=True)
        pong = await ws.ping(b"interop")
        await asyncio.wait_for(pong, TIMEOUT)
        print("pong", flush=True)
        await ws.close(code=1000, reason="bye")
        print("closed", ws.close_code, flush=True)


async def chat(url, n):
    clients = [await websockets.connect(url, open_timeout=TIMEOUT) for _ in range(n)]
    # The server says when each is subscribed.
    for ws in clients:
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "subscribed"
    for i, ws in enumerate(clients):
        await ws.send("message %d" % i)
    for i, ws in enumerate(clients):
        got = sorted([await asyncio.wait_for(ws.recv(), TIMEOUT) for _ in range(n - 1)])
        print("client %d got %s" % (i, got), flush=True)
    for ws in clients:
        await ws.close()
        print("closed", ws.close_code, flush=True)


async def handler(ws, path=None):
    path = ws.path
    if path == "/echo":
        async for message in ws:
            await ws.send(message)
    elif path == "/ping":
        pong = await ws.ping(b"from python")
        await asyncio.wait_for(pong, TIMEOUT)
        await ws.send("pong from python")
        async for message in ws:
            pass
    elif path == "/bye":
        await ws.send("bye")
        await ws.close(code=4001, reason="done")
    else:
        await ws.close(code=1008, reason="unknown path")


async def server(cert=None, key=None):
    context = None
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=context, max_size=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("port", port, flush=True)
        # Until stdin closes: the test ends the server by closing its pipe.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


def main():
    what = sys.argv[1]
    if what == "echo":
        asyncio.run(echo(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    elif what == "chat":
        asyncio.run(chat(sys.argv[2], int(sys.argv[3])))
    elif what == "server":
        asyncio.run(server(*sys.argv[2:4]))


if __name__ == "__main__":
    main()
