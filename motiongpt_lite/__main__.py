"""``python -m motiongpt_lite``: the same commands as ``motiongpt-lite``."""
import sys

from motiongpt_lite.cli import main

sys.exit(main())
