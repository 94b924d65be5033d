"""``python -m helpers.disclosure status OUTPUT_DIR``: the line a finished run ends with
while identifying details are unresolved (the Makefile's ``all`` prints it)."""

import sys

from .masking import run_summary

if sys.argv[1:2] != ["status"] or len(sys.argv) != 3:
    print("usage: python -m helpers.disclosure status OUTPUT_DIR", file=sys.stderr)
    sys.exit(2)
line = run_summary(sys.argv[2])
if line:
    print(line)
