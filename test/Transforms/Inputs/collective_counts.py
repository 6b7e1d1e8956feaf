#!/usr/bin/env python3
"""Prints the collectives of one function of an --mp-comm-report, grouped:

  collective_counts.py REPORT.json FUNCTION [--axis AXIS]

One line per kind, in order of first appearance: `<kind> x<count>
<bytes_per_rank> B/rank`, then `total x<count> <bytes_per_rank> B/rank`.
With --axis, only the collectives over that mesh axis alone.
"""

import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("function")
    parser.add_argument("--axis")
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    functions = [f for f in report["functions"]
                 if f["function"] == args.function]
    if not functions:
        sys.exit(f"collective_counts.py: no function '{args.function}'")
    kinds = {}
    for c in functions[0]["collectives"]:
        if args.axis and c["axes"] != [args.axis]:
            continue
        count, total = kinds.get(c["kind"], (0, 0))
        kinds[c["kind"]] = (count + 1, total + c["bytes_per_rank"])
    for kind, (count, total) in kinds.items():
        print(f"{kind} x{count} {total} B/rank")
    print(f"total x{sum(c for c, _ in kinds.values())} "
          f"{sum(t for _, t in kinds.values())} B/rank")


if __name__ == "__main__":
    main()
