"""``python -m whyloop``: the ``whyloop`` command line (:func:`whyloop.cli.main`)."""

import sys

from whyloop.cli import main

sys.exit(main())
