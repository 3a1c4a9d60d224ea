# The community app's first migration: the app exists; its parts add their tables.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations: list = []
