"""Count words; write counts.csv and args.json (which optional arguments arrived)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

PATH_OPTIONS = {"--text", "--stopwords", "--counts"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", type=Path, required=True)
    ap.add_argument("--stopwords", type=Path)
    ap.add_argument("--min_count", type=int, default=1)
    ap.add_argument("--top_n", type=int)
    ap.add_argument("--separator", default=",")
    ap.add_argument("--counts", type=Path, required=True)
    ap.add_argument("extra", nargs="*", help="key=value settings, e.g. lowercase=True")
    args = ap.parse_args()
    extra = dict(kv.split("=", 1) for kv in args.extra)
    lowercase = extra.get("lowercase", "False") == "True"

    text = args.text.read_text(encoding="utf-8")
    words = re.findall(r"[A-Za-z']+", text.lower() if lowercase else text)
    stop = set()
    if args.stopwords is not None:
        stop = set(args.stopwords.read_text(encoding="utf-8").split())
    counts = Counter(w for w in words if w not in stop)
    rows = sorted(((w, n) for w, n in counts.items() if n >= args.min_count),
                  key=lambda r: (-r[1], r[0]))  # fmt: skip
    if args.top_n is not None:
        rows = rows[: args.top_n]
    lines = [f"word{args.separator}count", *(f"{w}{args.separator}{n}" for w, n in rows)]
    (args.counts / "counts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    argv, masked = sys.argv[1:], []
    for i, a in enumerate(argv):
        masked.append("<path>" if i and argv[i - 1] in PATH_OPTIONS else a)
    report = {"argv": masked, "extra": extra, "words": len(rows)}
    (args.counts / "args.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
