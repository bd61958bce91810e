import sys

from titlegen.cli import main

sys.exit(main())
