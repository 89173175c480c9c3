"""The sklearn pipeline of ``pipeline.yml``, written with amlrun's Python DSL.

Run it with ``python pipeline_dsl.py`` or ``amlrun run examples/sklearn-pipeline/pipeline_dsl.py``.
Both spellings share steps with ``pipeline.yml``: same components, same inputs, same keys.
"""

from __future__ import annotations

from pathlib import Path

import amlrun

HERE = Path(__file__).parent

prepare = amlrun.load_module(HERE / "prepare" / "prepare.yml")
train = amlrun.load_module(HERE / "train" / "train.yml")
score = amlrun.load_module(HERE / "score" / "score.yml")
evaluate = amlrun.load_module(HERE / "evaluate" / "evaluate.yml")


@amlrun.pipeline(name="sklearn_dsl", default_compute="cpu-cluster")
def sklearn_pipeline(
    dataset: str = "breast_cancer", test_size: float = 0.25, n_estimators: int = 50
) -> dict:
    """prepare -> train -> score -> evaluate; returns the model and the metrics folders."""
    p = prepare(dataset=dataset, test_size=test_size, random_state=7)
    t = train(train_data=p.outputs.train_data, n_estimators=n_estimators)
    s = score(model=t.outputs.model, test_data=p.outputs.test_data)
    e = evaluate(predictions=s.outputs.predictions)
    return {"trained_model": t.outputs.model, "metrics": e.outputs.metrics}


if __name__ == "__main__":
    result = sklearn_pipeline().run()
    print(result.summary())
