"""Batch scoring of the iris MLTable: Azure ML's parallel entry script contract.

init() runs once per worker process and loads the model named by --model; run() gets one
mini-batch (a pandas DataFrame) and returns one row per input row.
"""

import argparse
import os
import pickle

import pandas as pd

model = None


def init():
    global model
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--model", type=str, required=True)
    args, _unknown = parser.parse_known_args()  # the driver's own arguments are also here
    with open(os.path.join(args.model, "model.pkl"), "rb") as f:
        model = pickle.load(f)


def run(mini_batch: pd.DataFrame) -> pd.DataFrame:
    features = mini_batch.iloc[:, :4].round(2)
    features.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    features["prediction"] = model.predict(mini_batch.to_numpy())
    return features
