"""`python -m cli <verb>`: the entry behind the make targets."""

import os
import signal
import sys

from cli.main import main

try:
    sys.exit(main())
except BrokenPipeError:
    # The reader went away (`make plan | head`): stop quietly, as a shell tool does, instead of a traceback.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)
