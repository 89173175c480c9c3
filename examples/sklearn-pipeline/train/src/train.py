"""Fit a random forest on train.csv and pickle it (fixed seed: identical bytes on rerun).

Parameters and the training accuracy are logged through mlflow, as Azure ML scripts do;
amlrun points mlflow at a local store and shows them in `amlrun runs show RUN`.
"""

from __future__ import annotations

import argparse
import csv
import json
import pickle
from pathlib import Path

import mlflow
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score


def read_csv(path: Path) -> tuple[list[str], list[list[float]], list[int]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return header[:-1], [[float(v) for v in r[:-1]] for r in body], [int(r[-1]) for r in body]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train_data", type=Path, required=True)
    ap.add_argument("--n_estimators", type=int, default=50)
    ap.add_argument("--max_depth", type=int, default=None)
    ap.add_argument("--model", type=Path, required=True)
    args = ap.parse_args()

    features, x, y = read_csv(args.train_data / "train.csv")
    clf = RandomForestClassifier(
        n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=0, n_jobs=1
    )
    clf.fit(x, y)
    train_accuracy = round(float(clf.score(x, y)), 6)
    folds = cross_val_score(clf, x, y, cv=3)  # held-out accuracy: what sweep.yml maximizes
    with mlflow.start_run():
        mlflow.log_params({"n_estimators": args.n_estimators, "max_depth": args.max_depth})
        mlflow.log_metric("train_accuracy", train_accuracy)
        for fold, accuracy in enumerate(folds):
            mlflow.log_metric("fold_accuracy", float(accuracy), step=fold)
        mlflow.log_metric("cv_accuracy", round(float(folds.mean()), 6))
    with open(args.model / "model.pkl", "wb") as f:
        pickle.dump(clf, f, protocol=4)
    info = {
        "features": features,
        "max_depth": args.max_depth,
        "n_estimators": args.n_estimators,
        "train_accuracy": train_accuracy,
    }
    (args.model / "model_info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    print(f"trained {args.n_estimators} trees on {len(y)} rows")


if __name__ == "__main__":
    main()
