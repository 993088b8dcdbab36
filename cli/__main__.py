"""`python -m cli <verb>`: the entry behind the make targets."""

import sys

from cli.main import main

sys.exit(main())
