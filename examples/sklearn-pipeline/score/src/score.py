"""Predict the test set with the pickled model; write predictions.csv."""

from __future__ import annotations

import argparse
import csv
import pickle
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--test_data", type=Path, required=True)
    ap.add_argument("--predictions", type=Path, required=True)
    args = ap.parse_args()

    with open(args.model / "model.pkl", "rb") as f:
        clf = pickle.load(f)
    with open(args.test_data / "test.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:-1]] for r in rows]
    y_true = [int(r[-1]) for r in rows]
    y_pred = clf.predict(x)
    proba = clf.predict_proba(x)
    classes = [int(c) for c in clf.classes_]
    with open(args.predictions / "predictions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "y_true", "y_pred", *(f"p_{c}" for c in classes)])
        for i, (t, p, pr) in enumerate(zip(y_true, y_pred, proba)):
            w.writerow([i, t, int(p), *(f"{v:.4f}" for v in pr)])
    print(f"scored {len(rows)} rows")


if __name__ == "__main__":
    main()
