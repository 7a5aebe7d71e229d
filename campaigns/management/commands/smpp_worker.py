"""`manage.py smpp_worker [--connector NAME] [--binds N]`: hold SMPP binds and send their connectors' messages."""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from campaigns.sending import smpp_store
from campaigns.sending.smpp_worker import run_workers


class Command(BaseCommand):
    help = "Hold the binds of the active SMPP connectors and submit their messages (SIGTERM stops gracefully)."

    def add_arguments(self, parser):
        parser.add_argument("--connector", help="Only this connector (by name); default: every active one.")
        parser.add_argument(
            "--binds", type=int, help="At most this many bind slots per connector here (default: all of them)."
        )
        parser.add_argument("--grace", type=float, default=10.0, help="Seconds to wait for answers when stopping.")
        parser.add_argument("--list", action="store_true", help="Print the active SMPP connectors and exit.")

    def handle(self, *args, **options):
        connectors = smpp_store.smpp_connectors(options["connector"])
        if options["list"]:
            for connector in connectors:
                self.stdout.write(connector.name)
            return
        if not connectors:
            raise CommandError(
                "No active SMPP connector" + (f" named {options['connector']!r}" if options["connector"] else "")
            )
        if options["binds"] is not None and options["binds"] < 1:
            raise CommandError("--binds must be at least 1.")
        names = ", ".join(c.name for c in connectors)
        self.stdout.write(f"smpp_worker {smpp_store.worker_name()}: {names}")
        asyncio.run(self._run(connectors, options["binds"], options["grace"]))
        self.stdout.write("smpp_worker stopped")

    async def _run(self, connectors, binds, grace):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_workers(connectors, max_binds=binds, stop=stop, grace=grace)
