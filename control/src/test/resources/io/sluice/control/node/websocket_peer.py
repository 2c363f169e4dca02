#!/usr/bin/python3
"""A real WebSocket server and client for NodeL7TestbedTest (Debian's python3-websockets, its legacy asyncio API).

  websocket_peer.py server HOST PORT NAME
      Serves WebSockets on HOST:PORT: first sends one JSON text message naming itself and the request it got (path,
      X-Forwarded-For, Upgrade), then echoes every message back. A plain GET /health is answered 200 (health checks).
  websocket_peer.py client URI COUNT SIZE
      Opens URI, reads the server's JSON message, sends COUNT text messages of SIZE characters and one binary message
      of SIZE bytes, each awaited back, pings once, closes, and prints one JSON line with what it saw.
"""
import asyncio
import http
import json
import sys

from websockets.legacy.client import connect
from websockets.legacy.server import serve


async def server(host, port, name):
    async def health(path, headers):
        if path == "/health":
            return http.HTTPStatus.OK, [("X-Backend", name)], b"ok\n"
        return None

    async def handler(ws, path=None):
        headers = ws.request_headers
        await ws.send(json.dumps({"backend": name, "path": ws.path, "xff": headers.get("X-Forwarded-For"),
                                  "upgrade": headers.get("Upgrade")}))
        async for message in ws:
            await ws.send(message)

    async with serve(handler, host, int(port), process_request=health, max_size=None):
        print("listening", flush=True)
        await asyncio.Future()


async def client(uri, count, size):
    count, size = int(count), int(size)
    result = {"echoed": 0}
    async with connect(uri, max_size=None, open_timeout=10, close_timeout=5) as ws:
        result["hello"] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        for i in range(count):
            text = ("%d:" % i + "x" * size)[:size]
            await ws.send(text)
            if await asyncio.wait_for(ws.recv(), 10) == text:
                result["echoed"] += 1
        data = bytes(range(256)) * (size // 256 + 1)
        await ws.send(data)
        result["binary"] = await asyncio.wait_for(ws.recv(), 10) == data
        pong = await ws.ping()
        await asyncio.wait_for(pong, 10)
        result["pong"] = True
    result["closeCode"] = ws.close_code
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    asyncio.run(server(*args) if mode == "server" else client(*args))
