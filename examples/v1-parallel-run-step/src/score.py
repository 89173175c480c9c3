"""Score reviews: ParallelRunStep's entry script contract (init once, run per mini-batch)."""

import argparse
import os

GOOD = {"great", "lovely", "fast", "friendly", "perfect", "clean"}
BAD = {"slow", "rude", "broken", "dirty", "late", "awful"}
threshold = 0


def init():
    global threshold
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=int, default=1)
    args, _ = parser.parse_known_args()
    threshold = args.threshold


def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as f:
            words = f.read().split()
        score = sum(w in GOOD for w in words) - sum(w in BAD for w in words)
        verdict = "positive" if score >= threshold else "negative"
        rows.append(f"{os.path.basename(path)} {score} {verdict}")
    return rows
