"""`python -m bench run …`: every benchmark in one run (bench/run.py); each one alone is `python -m bench.<name>`."""

import sys

from bench.run import main

if __name__ == "__main__":
    if sys.argv[1:2] != ["run"]:
        raise SystemExit("usage: python -m bench run [--db URL] [--scale 100k|1m] [--only …]  (see --help)")
    raise SystemExit(main(sys.argv[2:]))
