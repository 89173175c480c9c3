"""Bad input gets one clear error naming file, line, field and fix; exit 2; no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amlrun.errors import SpecError
from tests.helpers import amlrun
from tests.pipeline_ws import make_workspace

CASES = {
    "invalid_yaml": ("inputs:\n  - name: a\n   type: x\n", "bad.yml:3: invalid YAML"),
    "no_command": (
        "type: command\nname: x\ninputs: {}\n",
        "bad.yml:1: command: the component has no command Fix: add command:",
    ),
    "undeclared_placeholder": (
        "type: command\nname: x\ncommand: echo ${{inputs.nope}}\n",
        "bad.yml:3: command: placeholder refers to undeclared input 'nope'",
    ),
    "unclosed_group": (
        "type: command\nname: x\ninputs: {a: {type: string, optional: true}}\n"
        "command: echo $[[--a ${{inputs.a}}\n",
        "'$[[' is never closed",
    ),
    "v1_bad_placeholder": (
        "amlModuleIdentifier: {moduleName: m, moduleVersion: 1}\n"
        "implementation:\n  container:\n    command: [python, x.py]\n    args: [{inputFile: a}]\n",
        "bad.yml:5: implementation.container.args: placeholder {'inputFile': 'a'} is not one of",
    ),
    "input_and_output_share_a_name": (
        "type: command\nname: x\ninputs: {v: {type: uri_folder}}\n"
        "outputs: {v: {type: uri_folder}}\ncommand: cp -r ${{inputs.v}} ${{outputs.v}}\n",
        "bad.yml: outputs.v: 'v' is both an input and an output of this module Fix: rename",
    ),
    "v1_no_implementation": (
        "amlModuleIdentifier: {moduleName: m}\ninputs: []\n",
        "the module has no implementation",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_reports_one_precise_error(tmp_path, case):
    text, expected = CASES[case]
    (tmp_path / "bad.yml").write_text(text)
    proc = amlrun("module", "validate", str(tmp_path / "bad.yml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert expected in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_module_run_with_a_bad_parameter_exits_2_naming_it(tmp_path):
    from tests.helpers import DATA

    proc = amlrun(
        "module",
        "run",
        str(DATA / "v1mod/module_spec.yaml"),
        "--input",
        f"Input data={DATA / 'indir'}",
        "--param",
        "Top k=0",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "parameter 'Top k' got '0'; allowed: a value >= 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_module_run_missing_required_input_is_named(tmp_path):
    from tests.helpers import DATA

    proc = amlrun("module", "run", str(DATA / "v1mod/module_spec.yaml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "required input 'Input data' (AnyDirectory) has no value" in proc.stderr


def test_running_a_corpus_spec_whose_code_is_absent_names_the_folder(corpus, tmp_path):
    spec = (
        corpus
        / "v2_azureml_examples/cli/jobs/pipelines-with-components/basics"
        / "1a_e2e_local_components/eval.yml"
    )
    proc = amlrun("module", "run", str(spec), "--input", f"scoring_result={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "code folder ./eval_src does not exist" in proc.stderr


# ---------------------------------------------------------------- plan-time pipeline checks


def _ws(tmp_path: Path, edit: dict[str, tuple[str, str]] | None = None) -> Path:
    """The small real workspace, with ``old -> new`` text replacements in some files."""
    pipeline = make_workspace(tmp_path)
    for rel, (old, new) in (edit or {}).items():
        p = tmp_path / rel
        assert old in p.read_text(), (rel, old)
        p.write_text(p.read_text().replace(old, new))
    return pipeline


def _dry(tmp_path: Path, *args: str):
    proc = amlrun("run", "pipeline.yml", "--dry-run", *args, cwd=tmp_path)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def test_a_bad_pipeline_parameter_value_exits_2_at_plan_time_naming_the_line(tmp_path):
    _ws(tmp_path)
    proc = _dry(tmp_path, "--set", "inputs.factor=lots")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pipeline.yml:17: jobs.prep.inputs.factor: parameter 'factor' got 'lots'" in proc.stderr


def test_a_pipeline_parameter_outside_its_range_or_enum_exits_2(tmp_path):
    _ws(tmp_path, {"prep/prep.yml": ("default: 2}", "default: 2, min: 1, max: 5}")})
    proc = _dry(tmp_path, "--set", "inputs.factor=9")
    assert proc.returncode == 2 and "allowed: a value <= 5" in proc.stderr, proc.stderr


def test_a_typed_pipeline_input_with_a_bad_default_exits_2_even_if_no_step_uses_it(tmp_path):
    _ws(
        tmp_path,
        {
            "pipeline.yml": (
                "  epochs: 1\n",
                "  epochs: 1\n  rate: {type: number, max: 1, default: 3}\n",
            )
        },
    )
    proc = _dry(tmp_path)
    assert proc.returncode == 2
    assert (
        "pipeline.yml:10: inputs.rate: parameter 'rate' got 3; allowed: a value <= 1" in proc.stderr
    )


def test_a_misspelt_port_type_is_an_error_suggesting_the_known_type(tmp_path):
    _ws(tmp_path, {"train/train.yml": ("data: {type: uri_folder}", "data: {type: uri_foldr}")})
    proc = _dry(tmp_path)
    assert proc.returncode == 2
    assert (
        "train.yml:4: inputs.data: unknown data type 'uri_foldr' (did you mean 'uri_folder'?)"
        in (proc.stderr)
    )


def test_a_parameter_bound_to_a_data_output_is_refused(tmp_path):
    _ws(tmp_path, {"pipeline.yml": ("epochs: ${{parent.inputs.epochs}}",
                                    "epochs: ${{parent.jobs.prep.outputs.clean}}")})  # fmt: skip
    proc = _dry(tmp_path)
    assert proc.returncode == 2
    assert (
        "jobs.train.inputs.epochs: parameter 'epochs' (integer) is bound to output 'clean' "
        "of step 'prep'" in proc.stderr
    )


def test_binding_an_input_the_component_does_not_declare_is_a_warning(tmp_path):
    side = "component: ./side/side.yml"
    _ws(tmp_path, {"pipeline.yml": (side, side + "\n    inputs: {wrod: hey}")})
    proc = _dry(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "declares no input 'wrod'" in proc.stderr


def test_a_script_missing_from_the_code_folder_is_named_before_anything_runs(tmp_path):
    _ws(tmp_path)
    (tmp_path / "train/src/train.py").unlink()
    proc = amlrun("run", "pipeline.yml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the command of step 'train' runs train.py, which is not in its code folder" in (
        proc.stderr
    )
    assert not (tmp_path / ".amlrun/runs.sqlite").exists()  # nothing ran, nothing recorded


def test_a_missing_code_folder_exits_2_before_anything_runs(tmp_path):
    _ws(tmp_path, {"train/train.yml": ("code: ./src", "code: ./srcc")})
    proc = amlrun("run", "pipeline.yml", cwd=tmp_path)
    assert proc.returncode == 2 and "code folder ./srcc of step 'train' does not exist" in (
        proc.stderr
    )


def test_a_pipeline_that_includes_itself_is_one_error(tmp_path):
    (tmp_path / "loop.yml").write_text(
        "type: pipeline\njobs:\n  again:\n    type: pipeline\n    component: ./loop.yml\n"
    )
    proc = amlrun("run", "loop.yml", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        "loop.yml:5: jobs.again.component: the pipeline includes itself (loop.yml -> loop.yml)"
        in (proc.stderr)
    )
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("inputs:\n      model:", 'inputs: "yes"\n    x:\n      model:',
         "jobs.report.inputs: 'inputs' must be a mapping, not the text 'yes'"),
        ("side:\n    component: ./side/side.yml",
         "side:\n    component: ./side/side.yml\n    inputs: {true: 1}",
         "jobs.side.inputs: the name True is not text"),
    ],
)  # fmt: skip
def test_non_mappings_and_non_text_names_are_one_error_naming_the_line(
    tmp_path, old, new, expected
):
    _ws(tmp_path, {"pipeline.yml": (old, new)})
    proc = _dry(tmp_path)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("outputs: 3.5", "outputs: 'outputs' must be a mapping, not the number 3.5"),
        ("inputs:\n  ? {a: 1}\n  : 2", "a mapping key must be a plain value"),
        ("inputs:\n  7: {type: integer}", "the name 7 is not text"),
    ],
)
def test_pipeline_ports_of_the_wrong_shape_are_one_error_before_names_are_checked(
    tmp_path, section, expected
):
    (tmp_path / "p.yml").write_text(
        f"type: pipeline\n{section}\njobs:\n  a:\n    type: command\n    command: echo hi\n"
    )
    proc = amlrun("run", "p.yml", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_fifo_or_proc_file_bound_as_data_is_refused_without_opening_it(tmp_path):
    _ws(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    for value in (str(tmp_path / "pipe"), "/proc/self/mem", "/dev/zero"):
        proc = _dry(tmp_path, "--set", f"inputs.raw={value}")
        assert proc.returncode == 2, (value, proc.stderr)
        assert "jobs.prep.inputs.raw: data path" in proc.stderr
        assert "not a regular file or folder" in proc.stderr or "pseudo-filesystem" in proc.stderr


def test_module_run_refuses_a_fifo_input_instead_of_letting_the_command_block(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    spec = Path(__file__).resolve().parents[1] / "examples/modules/v2-component/word_count.yml"
    proc = amlrun("module", "run", str(spec), "--input", f"text={tmp_path / 'pipe'}",
                  cwd=tmp_path, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert f"--input text: data path {tmp_path / 'pipe'} is not a regular file or folder" in (
        proc.stderr
    )


def _billion_laughs() -> str:
    head = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        head += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return head + "type: command\nname: x\ncommand: echo hi\ndescription: *a9\n"


def test_a_billion_laughs_file_fails_in_under_a_second_and_100_mb(tmp_path):
    from amlrun.spec import yamlio

    (tmp_path / "bomb.yml").write_text(_billion_laughs())
    started = time.perf_counter()
    with pytest.raises(SpecError, match="aliases expand to more than"):
        yamlio.load(tmp_path / "bomb.yml")
    assert time.perf_counter() - started < 1.0
    # The child's own peak (VmHWM of its address space, written at exit): wait4's ru_maxrss
    # would also count the pages of this pytest process the child had before its exec.
    peak = (
        "import atexit\n"
        "def hwm():\n"
        "    line = next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))\n"
        "    open('hwm.txt', 'w').write(line.split()[1])\n"
        "atexit.register(hwm)\n"
        "from amlrun.cli.main import main; main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", peak, "module", "validate", "bomb.yml"],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bomb.yml:5: YAML aliases expand to more than 100,000 extra nodes" in proc.stdout
    assert int((tmp_path / "hwm.txt").read_text()) < 100 * 1024  # KiB


# ---------------------------------------------------------------- full or read-only disks


_READ_ONLY = "mount --bind {0} {0} && mount -o remount,bind,ro {0}"
_FULL = "mount -t tmpfs -o size=8k tmpfs {0}"  # room for two small blobs


def _mounted(mount: str, folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``amlrun ARGS`` with ``folder`` mounted read-only or tiny in a private mount namespace
    (root ignores chmod, and the mount vanishes with the process)."""
    cli = f"{sys.executable} -c 'from amlrun.cli.main import main; main()' " + " ".join(args)
    script = f"{mount.format(folder)} && {cli}"
    env = {**os.environ, "AMLRUN_WORKSPACE": str(cwd)}
    return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_read_only_store_fails_the_steps_with_one_line_naming_it(tmp_path):
    _ws(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    proc = _mounted(_READ_ONLY, store, "run", "pipeline.yml", "--store", str(store), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot write to the store {store}: Read-only file system" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_read_only_workspace_is_one_error_naming_the_run_database(tmp_path):
    _ws(tmp_path)
    proc = _mounted(_READ_ONLY, tmp_path, "run", "pipeline.yml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    db = tmp_path / ".amlrun/runs.sqlite"
    assert f"error: cannot write the run database {db}: Read-only file system" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_full_store_fails_the_steps_with_one_line_naming_it(tmp_path):
    _ws(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    proc = _mounted(_FULL, store, "run", "pipeline.yml", "--store", str(store), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot write to the store {store}: No space left on device" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
