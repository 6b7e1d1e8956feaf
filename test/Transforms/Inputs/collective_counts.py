#!/usr/bin/env python3
"""Prints the collectives of one function of an --mp-comm-report, grouped:

  collective_counts.py REPORT.json FUNCTION [--axis AXIS] [--calls]

One line per kind, in order of first appearance: `<kind> x<count>
<bytes_per_rank> B/rank`, then `total x<count> <bytes_per_rank> B/rank`.
With --axis, only the collectives over that mesh axis alone. With --calls,
a run of collectives of one FSDP group (--mp-group-fsdp) or of one coalesced
group (--mp-coalesce-reductions) counts as the one runtime call it is, and
each call is listed first, in program order: `call <kind> [<group>]
x<collectives> [regather]`.
"""

import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("function")
    parser.add_argument("--axis")
    parser.add_argument("--calls", action="store_true")
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    functions = [f for f in report["functions"]
                 if f["function"] == args.function]
    if not functions:
        sys.exit(f"collective_counts.py: no function '{args.function}'")
    kinds = {}
    calls = []  # [key, collectives]
    for c in functions[0]["collectives"]:
        if args.axis and c["axes"] != [args.axis]:
            continue
        group = c.get("fsdp_group")
        if "coalesced" in c:
            group = f"coalesced {c['coalesced']}"
        key = (c["kind"], c["axes"], group, c.get("regather"))
        joins = bool(args.calls and calls and key[2] is not None and
                     calls[-1][0] == key)
        if joins:
            calls[-1][1] += 1
        else:
            calls.append([key, 1])
        count, total = kinds.get(c["kind"], (0, 0))
        kinds[c["kind"]] = (count + (not joins), total + c["bytes_per_rank"])
    if args.calls:
        for (kind, _, group, regather), n in calls:
            print(f"call {kind}" + (f" [{group}]" if group is not None else "")
                  + f" x{n}" + (" regather" if regather else ""))
    for kind, (count, total) in kinds.items():
        print(f"{kind} x{count} {total} B/rank")
    print(f"total x{sum(c for c, _ in kinds.values())} "
          f"{sum(t for _, t in kinds.values())} B/rank")


if __name__ == "__main__":
    main()
