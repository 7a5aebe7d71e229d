"""`manage.py smpp_server [--host H] [--port P] [--tls-port P]`: the SMPP gateway customers' applications bind to."""

import asyncio

from django.core.management.base import BaseCommand, CommandError

from campaigns.smpp_gateway.server import serve_until_signalled, server_from_settings


class Command(BaseCommand):
    help = "Serve the SMPP 3.4 gateway for customers (SMPP_PORT; SMPP_TLS_PORT with a certificate). SIGTERM stops."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="Listen address (default SMPP_HOST, 127.0.0.1).")
        parser.add_argument("--port", type=int, help="Plain port (default SMPP_PORT, 2775; 0: any free port).")
        parser.add_argument("--tls-port", type=int, help="TLS port (default SMPP_TLS_PORT; needs SMPP_TLS_CERT/KEY).")

    def handle(self, *args, **options):
        try:
            server = server_from_settings(host=options["host"], port=options["port"], tls_port=options["tls_port"])
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error
        asyncio.run(serve_until_signalled(server, ready=self._announce))
        self.stdout.write("smpp_server stopped")

    def _announce(self, server) -> None:
        ports = ", ".join(str(port) for port in server.ports)
        self.stdout.write(f"smpp_server {server.name} listening on {server.host} port(s) {ports}", ending="\n")
        self.stdout.flush()
