"""What the core bench reports share: criterion medians and a Markdown table of figures.

Every row is (figure, ours, baseline measured in the same run, ratio, goal, met/MISSED/-).
"""
import json
import pathlib
import sys


class Estimates:
    """The medians (ns) under a criterion output directory."""

    def __init__(self, root, script):
        self.root = pathlib.Path(root)
        self.script = script

    def __call__(self, bench_id):
        f = self.root / bench_id / "new" / "estimates.json"
        if not f.exists():
            sys.exit(f"{self.script}: missing {f}: did the bench run?")
        return json.loads(f.read_text())["median"]["point_estimate"]


def us(t):
    return f"{t / 1000:.2f} µs"


def print_table(rows):
    print("| figure | ours | baseline (same run) | ratio | goal | |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
