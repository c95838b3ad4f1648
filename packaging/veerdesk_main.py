"""Entry point of the desktop bundle: the same command line as the `veerdesk` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Batch workers started with the spawn method must not rerun the CLI in a frozen app.
    multiprocessing.freeze_support()
    from veerdesk.cli import main

    sys.exit(main())
