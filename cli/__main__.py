"""`python -m cli <verb>`: the entry behind the make targets."""

import gc
import os
import signal
import sys

from cli.main import main

# One short process: the cyclic collector would only rescan what a plan keeps alive to its end (after an
# evaluation, every object it made, at once; a third of a 1,000-app plan's CPU), to free a few cycles at exit.
gc.disable()
try:
    sys.exit(main())
except BrokenPipeError:
    # The reader went away (`make plan | head`): stop quietly, as a shell tool does, instead of a traceback.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)
