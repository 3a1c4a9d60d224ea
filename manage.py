#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
    from django.core.management import execute_from_command_line

    from crm.settings.env import SettingsError

    try:
        execute_from_command_line(sys.argv)
    except SettingsError as exc:
        # A bad environment is an operator's mistake: one sentence, not a traceback.
        sys.exit(f"Configuration error: {exc}")


if __name__ == "__main__":
    main()
