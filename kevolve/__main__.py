import sys

from kevolve.cli.main import main

sys.exit(main())
