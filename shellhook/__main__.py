"""``python -m shellhook``: the CLI; ``hook`` skips argparse to keep the fallback fast."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "hook":
    from shellhook.daemon.fallback import answer

    sys.exit(answer(sys.argv[2:]))

from shellhook.cli import main  # noqa: E402

sys.exit(main())
