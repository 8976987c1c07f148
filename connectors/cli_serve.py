"""`ribot serve`: one HTTP server for the web chat, the API, Slack and Teams.

The server listens at once; the model, index (built when missing) and database load in the background and
`/readyz` turns 200 when they are in. SIGINT or SIGTERM stops taking connections, lets the requests in
flight finish (up to SHUTDOWN_TIMEOUT seconds) and then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Callable

from aiohttp import web

from bot.settings import Settings, get_settings

log = logging.getLogger("ribot.serve")
console = logging.getLogger("ribot.console")  # JSON lines on stdout, for the person who started the server


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: PORT or 3978)")
    parser.add_argument(
        "--processes",
        type=_positive,
        help="server processes on the port, one per core (default: SERVE_PROCESSES or 1)",
    )


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def run(args: argparse.Namespace) -> int:
    from connectors.jsonlog import configure_logging
    from connectors.processes import run_processes, threads_each

    settings = get_settings()
    pairs = (("host", args.host), ("port", args.port), ("serve_processes", args.processes))
    updates = {k: v for k, v in pairs if v is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    configure_logging(settings.log_level)
    try:
        listener = listening_socket(settings.host, settings.port)
    except OSError as exc:
        log.error(f"ribot serve: {why_not_listening(settings, exc)}")
        return 1
    processes = settings.serve_processes
    if processes == 1:
        return _serve_here(settings, listener)
    threads = threads_each(settings.encoder_threads, processes)
    each = settings.model_copy(update={"encoder_threads": threads})
    log.info("serving in processes", extra={"processes": processes, "encoder_threads": threads})
    return run_processes(processes, lambda: _serve_here(each, listener))


def _serve_here(settings: Settings, listener: socket.socket) -> int:
    from connectors.teams.auth import TeamsConfigError

    try:
        asyncio.run(serve(settings, sock=listener))
    except TeamsConfigError as exc:
        log.error(f"ribot serve: {exc}")
        return 2
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound first: a port that is taken fails at once, before the database is
    migrated or the model loads."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    listener.setblocking(False)
    return listener


def why_not_listening(settings: Settings, exc: OSError) -> str:
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {settings.port} is already in use on {settings.host} (another ribot serve?); "
            "stop that process or choose another port with --port or PORT"
        )
    return f"cannot listen on {where}: {exc.strerror or exc}"


def url_of(settings: Settings, port: int) -> str:
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("localhost" if host == "::" else host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    announce: bool = True,
    sock: socket.socket | None = None,
) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM arrives), then shut down gracefully; on `sock` when it
    is given, else on the settings' host and port."""
    from connectors.app import build_services, create_app
    from connectors.ratelimit import RateLimits

    services = build_services(settings)
    app = create_app(services, limiter=RateLimits.for_services(services))
    await run_app(app, settings, stop=stop, announce=announce, sock=sock)


async def run_app(
    app: web.Application,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    announce: bool = True,
    on_listen: Callable[[int], None] | None = None,
    sock: socket.socket | None = None,
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=settings.shutdown_timeout
    )
    await runner.setup()
    try:
        site: web.BaseSite = (
            web.SockSite(runner, sock, backlog=1024)
            if sock is not None
            else web.TCPSite(runner, settings.host, settings.port, backlog=1024)
        )
        await site.start()
        port = _bound_port(runner) or settings.port
        if announce:
            url = url_of(settings, port)
            console.info(f"ribot is listening on {url}  (Ctrl+C stops it)", extra={"url": url})
            _announce_ready(app)
        log.info("listening", extra={"host": settings.host, "port": port})
        if on_listen is not None:
            on_listen(port)
        await stop.wait()
        log.info("shutting down: finishing requests in flight")
    finally:
        await runner.cleanup()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
    log.info("stopped")


def _announce_ready(app: web.Application) -> None:
    from connectors.services import SERVICES, Services

    services = app.get(SERVICES)
    if services is None:
        return
    console.info("loading the model and the knowledge base (the index is built on first start)…")

    def loaded(done: Services) -> None:
        if done.ready:
            console.info("ribot is ready.")
        else:
            console.error(f"ribot could not start answering: {done.load_error}")

    services.on_loaded(loaded)


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None
