"""Compute accuracy, macro F1 and the confusion matrix; write metrics.json and log the
scores through mlflow (amlrun shows them in `amlrun runs show RUN`)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import mlflow
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--predictions", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args()

    with open(args.predictions / "predictions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    y_true = [int(r["y_true"]) for r in rows]
    y_pred = [int(r["y_pred"]) for r in rows]
    metrics = {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 6),
        "f1_macro": round(float(f1_score(y_true, y_pred, average="macro")), 6),
        "confusion_matrix": confusion_matrix(y_true, y_pred).tolist(),
        "n_test": len(rows),
    }
    mlflow.log_metrics({k: metrics[k] for k in ("accuracy", "f1_macro", "n_test")})
    text = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
    (args.metrics / "metrics.json").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
