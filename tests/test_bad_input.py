"""Bad input gets one clear error naming file, line, field and fix; exit 2; no traceback."""

from __future__ import annotations

import pytest

from tests.helpers import amlrun

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
