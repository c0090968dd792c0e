#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Own (exclusive) instruction counts per function of a callgrind file.

    python3 bench/callgrind_self.py FILE [N]

Prints the file's total and its N (default 25) costliest functions by the
instructions they ran themselves, callees apart. bench/profile.sh calls it
on each dump of a case's timed part. callgrind_annotate reads such a dump
(one made by CALLGRIND_DUMP_STATS after CALLGRIND_ZERO_STATS) poorly: it
charges the calls still on the stack at the zeroing as the callers' own
cost, so its listing can show `main` above everything.
"""
import collections
import re
import signal
import sys

NAME = re.compile(r"\((\d+)\)(?: (.*))?")


def own_costs(path):
    names = {}

    def name(text):
        m = NAME.match(text)
        if not m:
            return text
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), m.group(1))

    own = collections.Counter()
    fn = None
    after_calls = False   # the next cost line is a call's inclusive cost
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = name(line[3:].rstrip("\n"))
            elif line.startswith("cfn="):
                name(line[4:].rstrip("\n"))
            elif line.startswith("calls="):
                after_calls = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2:
                    continue
                if after_calls:
                    after_calls = False
                else:
                    own[fn] += int(parts[1])
    return own


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped to head
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    own = own_costs(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) == 3 else 25
    total = sum(own.values())
    print(f"{total:>14,}  instructions in all")
    for fn, n in own.most_common(top):
        print(f"{n:>14,}  {100 * n / max(total, 1):5.1f}%  {fn}")


if __name__ == "__main__":
    main()
