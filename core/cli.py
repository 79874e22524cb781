"""The `portal` command: run, web, worker, migrate, demo, createowner, simulate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import uvicorn

from core import db
from core.settings import Settings, load_settings


def _run(coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    async def wrapped() -> Any:
        try:
            return await coro_fn()
        finally:
            await db.close_pool()

    return asyncio.run(wrapped())


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    _run(db.migrate)
    print("Database is up to date.")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from core.demo import seed_demo
    from core.plugins import load_plugins

    load_plugins(settings.plugins)

    async def go() -> Any:
        await db.migrate()
        return await seed_demo(settings.port)

    # Migrations print their progress on stdout; with --json, stdout carries the JSON alone (scripts parse it).
    with contextlib.redirect_stdout(sys.stderr if args.json else sys.stdout):
        accounts = _run(go)
    if args.json:
        print(msgspec.json.encode(accounts).decode())
        return 0
    print("Demo accounts (the *.localhost names resolve to 127.0.0.1 in browsers):")
    for a in accounts:
        print(f"  {a.role:<20} {a.url:<40} {a.email:<26} password: {a.password}")
    return 0


def cmd_createowner(settings: Settings, args: argparse.Namespace) -> int:
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.errors import PortalError
    from core.web.forms import convert

    email = args.email or input("E-mail: ")
    password = args.password or getpass.getpass("Password (10+ characters): ")
    try:
        user = convert(
            {"email": email, "password": password, "first_name": args.first_name, "last_name": args.last_name},
            UserCreate,
        )

        async def go() -> Any:
            await db.migrate()
            return await create_owner(args.name, args.currency, user)

        _run(go)
    except PortalError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Created the system owner {args.name!r} with admin {email}.")
    return 0


def _uvicorn(settings: Settings, app: str, workers: int) -> None:
    uvicorn.run(
        app,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def cmd_run(settings: Settings, _: argparse.Namespace) -> int:
    """Web and worker in one process: the embedded default."""
    _run(db.migrate)
    _uvicorn(settings, "core.app:create_run_app", 1)
    return 0


def cmd_web(settings: Settings, _: argparse.Namespace) -> int:
    """Web only, N processes; workers run elsewhere with `portal worker`; `portal migrate` runs once before."""
    if settings.embedded_database or settings.embedded_redis:
        print(
            "error: `portal web` is the scaled mode and needs DATABASE_URL and REDIS_URL; use `portal run`",
            file=sys.stderr,
        )
        return 2
    _uvicorn(settings, "core.app:create_web_app", settings.web_workers)
    return 0


def cmd_worker(settings: Settings, _: argparse.Namespace) -> int:
    from core.app import run_worker_forever

    if settings.embedded_redis:
        print("error: `portal worker` needs REDIS_URL (the embedded Redis lives inside `portal run`)", file=sys.stderr)
        return 2

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker_forever(settings, stop)

    _run(go)
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Run a channel's vendor stand-in (e.g. the SMSC) in the foreground until Ctrl-C."""
    from core.plugins import load_plugins, registries

    load_plugins(settings.plugins)
    stand_ins = registries().stand_ins
    stand_in_type = stand_ins.get(args.channel)
    if stand_in_type is None:
        known = ", ".join(sorted(stand_ins)) or "none"
        print(f"error: no stand-in for channel {args.channel!r} (loaded: {known})", file=sys.stderr)
        return 2

    async def go() -> None:
        stand_in = stand_in_type()
        port = await stand_in.start(args.host, _simulate_port(args.channel, args.port))
        print(f"{args.channel} stand-in listening on {args.host}:{port}", flush=True)
        print(f"connection settings: {msgspec.json.encode(stand_in.connection_settings()).decode()}", flush=True)
        print("Ctrl-C stops it.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await stand_in.stop()

    asyncio.run(go())
    return 0


def _simulate_port(channel: str, given: int | None) -> int:
    """``--port``, else ``PORT``, else the port the demo's connection to that stand-in uses (0 = a free port)."""
    from core.demo import STAND_IN_PORTS

    if given is not None:
        return given
    return int(os.environ.get("PORT") or STAND_IN_PORTS.get(channel, 0))


COMMANDS: dict[str, tuple[Callable[[Settings, argparse.Namespace], int], str]] = {
    "run": (cmd_run, "web + worker in one process on PORTAL_HOST:PORT (embedded default)"),
    "web": (cmd_web, "web only, PORTAL_WEB_WORKERS processes"),
    "worker": (cmd_worker, "a saq worker; run as many as you like (needs REDIS_URL)"),
    "migrate": (cmd_migrate, "apply database migrations of core and plugins"),
    "demo": (cmd_demo, "seed demo data once and print the demo accounts"),
    "createowner": (cmd_createowner, "create the system owner and its first admin"),
    "simulate": (
        cmd_simulate,
        "run a vendor stand-in (`portal simulate sms`, `portal simulate payments`) until Ctrl-C",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal", description="campaign-portal")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == "demo":
            p.add_argument("--json", action="store_true", help="print the accounts as JSON")
        if name == "createowner":
            p.add_argument("--name", default="System owner", help="partner name")
            p.add_argument("--currency", default="EUR")
            p.add_argument("--email")
            p.add_argument("--password")
            p.add_argument("--first-name", default="Admin")
            p.add_argument("--last-name", default="Owner")
        if name == "simulate":
            p.add_argument("channel", help="the channel whose vendor to play, e.g. sms")
            p.add_argument("--host", default="127.0.0.1")
            p.add_argument("--port", type=int, default=None, help="default: PORT, else the demo's; 0 = free")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("PORTAL_LOG_LEVEL", ""), os.environ.get("PORTAL_LOG_FORMAT", ""))
    return COMMANDS[args.command][0](load_settings(), args)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line (PORTAL_LOG_FORMAT=json), for log shippers that index fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str, form: str = "") -> None:
    """Log to stderr at ``level`` (PORTAL_LOG_LEVEL; INFO when unset), as text or JSON (PORTAL_LOG_FORMAT). Unless
    a level is asked for, the queue's own logger says only warnings: at INFO it writes a line for every job and cron
    tick, every second."""
    handler = logging.StreamHandler()
    if form.lower() == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper() or logging.INFO, handlers=[handler])
    if not level:
        logging.getLogger("saq").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
