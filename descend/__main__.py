"""`python -m descend ...` runs the command line, exactly as the `descend` console script does."""

import sys

from descend.cli import main

if __name__ == "__main__":
    sys.exit(main())
