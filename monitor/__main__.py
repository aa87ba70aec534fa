"""``python -m monitor``: same as the ``infusion-monitor`` command."""

import sys

from monitor.cli import main

sys.exit(main())
