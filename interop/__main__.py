"""Entry point: `python -m interop ...` (see interop.cli)."""

import sys

from interop.cli import main

sys.exit(main())
