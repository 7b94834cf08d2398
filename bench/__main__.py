"""`make bench` / `python -m bench [--quick] [--only NAME[,NAME]] [--runs N]`; see README.md."""

import sys

from .main import main

sys.exit(main())
