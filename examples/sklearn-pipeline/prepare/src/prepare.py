"""Split a scikit-learn toy dataset into train.csv and test.csv (deterministic bytes)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from sklearn import datasets
from sklearn.model_selection import train_test_split

LOADERS = {
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
}


def write_csv(path: Path, header: list[str], rows, labels) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*header, "target"])
        for row, label in zip(rows, labels):
            w.writerow([*(f"{v:.6g}" for v in row), int(label)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="wine", choices=sorted(LOADERS))
    ap.add_argument("--test_size", type=float, default=0.25)
    ap.add_argument("--random_state", type=int, default=0)
    ap.add_argument("--train_data", type=Path, required=True)
    ap.add_argument("--test_data", type=Path, required=True)
    args = ap.parse_args()

    data = LOADERS[args.dataset]()
    header = [n.replace(" ", "_") for n in data.feature_names]
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=args.test_size,
        random_state=args.random_state, stratify=data.target,
    )  # fmt: skip
    write_csv(args.train_data / "train.csv", header, x_train, y_train)
    write_csv(args.test_data / "test.csv", header, x_test, y_test)
    print(f"{args.dataset}: {len(y_train)} train rows, {len(y_test)} test rows")


if __name__ == "__main__":
    main()
