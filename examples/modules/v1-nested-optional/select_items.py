"""Select rows of items.csv; write selected.csv and args.json (which options were passed)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

PATH_OPTIONS = {"--scored-items", "--blocked-items", "--output"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scored-items", type=Path, required=True)
    ap.add_argument("--blocked-items", type=Path)
    ap.add_argument("--mode", required=True, choices=["Top k", "Threshold", "All"])
    ap.add_argument("--top-k", type=int)
    ap.add_argument("--sort-order", choices=["Descending", "Ascending"])
    ap.add_argument("--min-score", type=float)
    ap.add_argument("--label")
    ap.add_argument("--round-scores", choices=["True", "False"], required=True)
    ap.add_argument("--output", type=Path, required=True)
    args = ap.parse_args()

    with open(args.scored_items / "items.csv", newline="", encoding="utf-8") as f:
        items = [(r["item"], float(r["score"])) for r in csv.DictReader(f)]
    if args.blocked_items is not None:
        blocked = set((args.blocked_items / "blocked.txt").read_text().split())
        items = [it for it in items if it[0] not in blocked]
    if args.mode == "Top k":
        items.sort(key=lambda it: (-it[1], it[0]))
        items = items[: args.top_k]
        if args.sort_order == "Ascending":
            items.reverse()
    elif args.mode == "Threshold" and args.min_score is not None:
        items = [it for it in items if it[1] >= args.min_score]

    with open(args.output / "selected.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item", "score", "label"])
        for name, score in items:
            shown = f"{score:.1f}" if args.round_scores == "True" else f"{score:.3f}"
            w.writerow([name, shown, args.label or ""])

    # the argv this script got, with paths masked so the file is identical on every run
    argv, masked = sys.argv[1:], []
    for i, a in enumerate(argv):
        masked.append("<path>" if i and argv[i - 1] in PATH_OPTIONS else a)
    report = {
        "argv": masked,
        "options": sorted(a for a in argv if a.startswith("--")),
        "selected": [name for name, _ in items],
    }
    (args.output / "args.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
