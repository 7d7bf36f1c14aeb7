"""The database cache's table, created with the migrations.

With the embedded default (no REDIS_URL) the cache lives in the database, and every form
needs it (django-ratelimit counts there): after `migrate` alone, without `make run` or
`createcachetable`, every form answered 500. `createcachetable` is idempotent and does
nothing for a cache that is not a database cache; a cache table missing later (REDIS_URL
removed after the migrations) is reported by the system check panel.E006.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
