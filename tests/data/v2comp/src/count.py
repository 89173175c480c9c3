import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("--text")
p.add_argument("--min-len", type=int)
p.add_argument("--prefix", default=None)
p.add_argument("--report")
p.add_argument("rest", nargs="*")
a = p.parse_args()
with open(a.text) as f:
    lines = [ln for ln in f.read().splitlines() if len(ln) >= a.min_len]
with open(os.path.join(a.report, "report.json"), "w") as f:
    json.dump({"lines": len(lines), "prefix": a.prefix, "rest": a.rest}, f, sort_keys=True)
