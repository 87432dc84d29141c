"""Starts the emulator: `python infra/local/emulator [options]` from the repository root (the
launcher's way, infra/local/lib.sh), or `python -m emulator [options]` from infra/local."""
import os
import sys

if __package__:
    # python -m emulator (or -m infra.local.emulator): imported as a package already
    from .server import main
else:
    # python infra/local/emulator: this directory is sys.path[0] and no package is imported.
    # Import the package from its parent (infra/local, as the single-file emulator had
    # it), and keep the package's own modules (`mail`, `common`, ...) from being top-level names.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [os.path.dirname(here)] + [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    from emulator.server import main

if __name__ == "__main__":
    main()
