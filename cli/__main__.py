import sys

from kevolve.main import main

sys.exit(main())
