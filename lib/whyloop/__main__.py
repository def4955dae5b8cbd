import sys

from whyloop.cli import main

sys.exit(main())
