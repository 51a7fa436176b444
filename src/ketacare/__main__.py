import sys

from ketacare.cli import main

sys.exit(main())
