"""The database cache table for rendered charts (settings.CACHES["charts"])."""

from django.core.management import call_command
from django.db import migrations


def create(apps, schema_editor):
    # No table names: every database cache in settings.CACHES gets its table (a name given
    # here would be taken as the table's own name, Django's legacy form).
    call_command("createcachetable", database=schema_editor.connection.alias)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS ketacare_chart_cache")


class Migration(migrations.Migration):
    operations = [migrations.RunPython(create, drop)]
