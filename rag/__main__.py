"""``python -m rag``: the same command line as ``rag``."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main())
