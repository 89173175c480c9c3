"""Rehearse the CI workflows of this folder on one machine, against a moto S3 server.

    python examples/ci/rehearse.py [--repo PATH] [--work DIR]

1. starts moto's S3 server on 127.0.0.1 (a free port) with an empty bucket, the team cache;
2. "main" job: a fresh clone of the repository runs the example pipeline with the team cache
   writable (``.amlrun/cache,s3://amlrun-team/cache``): every step runs and is stored;
3. "PR" job: another fresh clone edits score.py and runs with the team cache read-only
   (``?ro``) and ``--expect-run score,evaluate``: exactly the edited step and its dependant
   run, prepare and train are reused from the bucket;
4. counts, through a proxy in front of the server, what the PR job downloaded: of the reused
   steps, only the outputs score reads (prepare's test data, train's model) may cross the
   wire, never prepare's training data or a log;
5. stops the server. Exits with the first failing job's status (3: the reuse was not as
   expected). Each job's markdown report is printed, as GitHub shows it in the job summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's tests/

from tests.fixtures import moto
from tests.fixtures.counting_proxy import CountingProxy, counting_proxy

BUCKET = "amlrun-team"
PIPELINE = "examples/sklearn-pipeline/pipeline.yml"
EDITED = "examples/sklearn-pipeline/score/src/score.py"
EXPECT_RUN = "score,evaluate"
AMLRUN = [sys.executable, "-c", "from amlrun.cli.main import main; main()"]


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 on loopback (tests/fixtures/moto.py), with the team bucket created."""
    import boto3

    proc, endpoint = moto.start_moto(log)
    boto3.client("s3", endpoint_url=endpoint, **_credentials("writer")).create_bucket(Bucket=BUCKET)
    return proc, endpoint


def _credentials(who: str) -> dict[str, str]:
    # moto accepts any key; in real CI the PR job's key can only read (the real boundary)
    return {"aws_access_key_id": f"{who}-key", "aws_secret_access_key": "not-a-secret"}


def job(name: str, repo: Path, work: Path, endpoint: str, read_only: bool) -> dict:
    """One CI job in a fresh clone; returns its ``--json`` result (plus its exit code)."""
    clone = work / name
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    if read_only:
        script = clone / EDITED
        script.write_text(script.read_text().replace('f"{v:.4f}"', 'f"{v:.3f}"'))
    creds = _credentials("reader" if read_only else "writer")
    env = {
        **os.environ,
        "AMLRUN_WORKSPACE": str(clone),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    store = f".amlrun/cache,s3://{BUCKET}/cache" + ("?ro" if read_only else "")
    report = clone / f"{name}.md"
    args = [PIPELINE, "--store", store, "--report", f"markdown:{report}", "--json"]
    args += ["--expect-run", EXPECT_RUN] if read_only else []
    proc = subprocess.run(
        [*AMLRUN, "run", *args], cwd=clone, env=env, capture_output=True, text=True
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"steps": []}
    print(f"## {name} job (store {store}): exit {proc.returncode}")
    print(report.read_text() if report.exists() else proc.stderr)
    return {**result, "exit_code": proc.returncode}


def downloaded(proxy: CountingProxy, result: dict, endpoint: str) -> list[str]:
    """The data of reused steps that crossed the wire (``STEP.OUTPUT`` or ``STEP.log``),
    from the requests the proxy saw: only what a step that ran reads may be there."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, **_credentials("writer"))
    fetched = {e.path.rsplit("/", 1)[-1] for e in proxy.reset() if "/cas/" in e.path}
    found = []
    for step in (s for s in result["steps"] if s["status"] == "reused"):
        obj = s3.get_object(Bucket=BUCKET, Key=f"cache/steps/{step['key']}.json")
        manifest = json.loads(obj["Body"].read())
        for name, out in manifest["outputs"].items():
            if {h for h, _size, _mode in out["entries"].values()} & fetched:
                found.append(f"{step['name']}.{name}")
        if manifest.get("log") in fetched:
            found.append(f"{step['name']}.log")
    return sorted(found)


def main() -> int:
    here = Path(__file__).resolve()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, default=here.parents[2], help="the repository to clone")
    ap.add_argument("--work", type=Path, help="where the clones go (default: a temporary folder)")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="amlrun-rehearse-") as tmp:
        work = ns.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        proc, endpoint = start_moto(work / "moto.log")
        try:
            with counting_proxy(endpoint) as proxy:  # counts what the PR job downloads
                results = {"main": job("main", ns.repo, work, endpoint, read_only=False)}
                results["pr"] = job("pr", ns.repo, work, proxy.endpoint, read_only=True)
                fetched = downloaded(proxy, results["pr"], endpoint)
        finally:
            moto.stop(proc)
    print(f"data of reused steps the PR job downloaded: {', '.join(fetched) or 'none'}")
    summary = {n: {s["name"]: s["status"] for s in r["steps"]} for n, r in results.items()}
    print(json.dumps({**summary, "pr_downloaded": fetched}))
    return next((r["exit_code"] for r in results.values() if r["exit_code"]), 0)


if __name__ == "__main__":
    sys.exit(main())
