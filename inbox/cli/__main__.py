"""``python -m inbox.cli``."""

import sys

from inbox.cli import main

sys.exit(main())
