"""Graceful shutdown: a stop signal closes the listener but lets the requests in flight finish."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from connectors.app import build_services, create_app
from connectors.cli_serve import run_app


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("never ready")


async def test_in_flight_requests_finish_after_stop(settings: Settings, stubs: Any) -> None:
    stubs.gate.set()
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    app = create_app(build_services(settings, loader=stubs.loader))
    server = asyncio.create_task(run_app(app, settings, stop=stop, announce=False, on_listen=port.set_result))
    base = f"http://127.0.0.1:{await asyncio.wait_for(port, 10)}"
    await _wait_ready(base)

    stubs.engine.block = threading.Event()
    async with aiohttp.ClientSession() as session:
        slow = asyncio.create_task(
            session.post(f"{base}/api/chat", json={"conversation_id": "conv-shutdown-1", "text": "slow one"})
        )
        assert await asyncio.to_thread(stubs.engine.started.wait, 10)
        stop.set()
        for _ in range(100):  # the listener closes while the slow request is still running
            try:
                async with aiohttp.ClientSession() as other, other.get(f"{base}/healthz"):
                    pass
            except aiohttp.ClientConnectionError:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the server kept accepting connections after stop")
        await asyncio.sleep(1.0)  # the request stays in flight well after the stop
        assert not server.done()
        stubs.engine.block.set()
        response = await asyncio.wait_for(slow, 10)
        assert response.status == 200
        body = await response.json()
        assert body["replies"][0]["answer"]["answer"] == "About: slow one"
    await asyncio.wait_for(server, 15)
