#!/usr/bin/env python3
"""Plots the CSV that mp-train --metrics writes.

  scripts/plot-metrics.py FILE.csv -o loss.png [--title TEXT]

Two panels over the step: the loss, and the throughput
(tokens_or_samples_per_s). A run resumed from a checkpoint appends to the
file; a step that appears twice (a run killed after its last checkpoint,
then resumed) is plotted from its last row, the resumed run's.

The CSV is read and checked before matplotlib is imported, so a malformed
file is reported the same way with or without it. Needs matplotlib
(Debian's python3-matplotlib, which scripts/setup.sh installs).
"""

import argparse
import csv
import math
import os
import sys

COLUMNS = ["step", "loss", "step_time_s", "tokens_or_samples_per_s",
           "peak_memory_bytes"]


def fail(message):
    print(f"plot-metrics.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_metrics(path):
    """{step: (loss or None, throughput)}, from the last row of each step."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as error:
        fail(f"{path}: {error.strerror}")
    if not rows or rows[0] != COLUMNS:
        fail(f"{path}:1: expected the header '{','.join(COLUMNS)}' of "
             "mp-train --metrics")
    metrics = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            fail(f"{path}:{line}: {len(row)} fields, expected {len(COLUMNS)}")
        try:
            step = int(row[0])
            # A step without a scalar f32 output has no loss.
            loss = float(row[1]) if row[1] else None
            throughput = float(row[3])
        except ValueError:
            fail(f"{path}:{line}: not a number in '{','.join(row)}'")
        metrics[step] = (loss, throughput)
    if not metrics:
        fail(f"{path}: no rows")
    return metrics


def main():
    parser = argparse.ArgumentParser(
        description="Plots mp-train --metrics' CSV: loss and throughput "
        "per step.")
    parser.add_argument("csv", help="the CSV mp-train --metrics wrote")
    parser.add_argument("-o", "--output", required=True,
                        help="the image to write (PNG, SVG, PDF: by suffix)")
    parser.add_argument("--title", help="the figure's title (default: the "
                        "CSV's file name)")
    args = parser.parse_args()

    metrics = read_metrics(args.csv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        fail("needs matplotlib: install Debian's python3-matplotlib "
             "(scripts/setup.sh does)")

    steps = sorted(metrics)
    figure, (loss_axes, rate_axes) = plt.subplots(
        2, 1, sharex=True, figsize=(7, 6), constrained_layout=True)
    losses = [(s, metrics[s][0]) for s in steps
              if metrics[s][0] is not None and math.isfinite(metrics[s][0])]
    if losses:
        loss_axes.plot(*zip(*losses), marker=".", label="loss")
    loss_axes.set_ylabel("loss")
    loss_axes.grid(True, alpha=0.3)
    rate_axes.plot(steps, [metrics[s][1] for s in steps], marker=".",
                   color="tab:orange")
    rate_axes.set_ylabel("tokens or samples / s")
    rate_axes.set_xlabel("step")
    rate_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    rate_axes.grid(True, alpha=0.3)
    figure.suptitle(args.title or os.path.basename(args.csv))
    try:
        figure.savefig(args.output)
    except (OSError, ValueError) as error:
        fail(f"{args.output}: {error}")
    print(f"{args.output}: {len(steps)} steps")


if __name__ == "__main__":
    main()
