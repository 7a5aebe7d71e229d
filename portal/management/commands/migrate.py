"""`manage.py migrate`, one machine at a time: on PostgreSQL the migrations run under a session advisory lock, so
machines started together (compose replicas, several `bin/serve migrate` or `bin/serve all`) apply them once; the
others wait, then find nothing left to do."""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

MIGRATION_LOCK_KEY = 0x6370616173  # "cpaas": one key for the whole database


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(*args, **options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
            if not cursor.fetchone()[0]:
                self.stdout.write("Another process is migrating this database: waiting for it to finish")
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            return super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
