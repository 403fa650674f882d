"""`python -m gradlab.lab`: the same as `gradlab lab`."""

import sys

from . import main

sys.exit(main())
