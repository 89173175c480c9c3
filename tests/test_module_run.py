"""``amlrun module run`` end to end, and the same through the Python API."""

from __future__ import annotations

import json

import amlrun
from tests.helpers import DATA
from tests.helpers import amlrun as cli


def test_v1_module_with_nested_optional_args_runs_and_produces_its_output(tmp_path):
    out = tmp_path / "result"
    proc = cli(
        "module",
        "run",
        str(DATA / "v1mod/module_spec.yaml"),
        "--input",
        f"Input data={DATA / 'indir'}",
        "--param",
        "Top k=7",
        "--output",
        f"Result dir={out}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    argv = json.loads((out / "args.json").read_text())["argv"]
    assert argv[argv.index("--top-k") + 1] == "7"
    assert "--label" not in argv  # optional, no value: group dropped
    assert json.loads((out / "args.json").read_text())["files"] == ["x.txt"]


def test_selecting_another_enum_option_drops_its_sub_parameter_group(tmp_path):
    out = tmp_path / "result"
    cli(
        "module",
        "run",
        str(DATA / "v1mod/module_spec.yaml"),
        "-i",
        f"Input data={DATA / 'indir'}",
        "-p",
        "Mode=Slow",
        "-p",
        "Label=x y",
        "-o",
        f"Result dir={out}",
        cwd=tmp_path,
        check=True,
    )
    argv = json.loads((out / "args.json").read_text())["argv"]
    assert "--top-k" not in argv and argv[argv.index("--label") + 1] == "x y"


def test_v2_component_runs_and_exits_with_the_command_status(tmp_path):
    out = tmp_path / "rep"
    proc = cli(
        "module",
        "run",
        str(DATA / "v2comp/component.yml"),
        "-i",
        f"text_file={DATA / 'input.txt'}",
        "-p",
        "min_len=2",
        "-p",
        "prefix=P",
        "-o",
        f"report={out}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report == {"lines": 2, "prefix": "P", "rest": ["note=none given"]}
    bad = cli(
        "module",
        "run",
        str(DATA / "v2comp/component.yml"),
        "-i",
        f"text_file={tmp_path / 'missing.txt'}",
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr


def test_the_run_never_writes_into_the_users_sources(tmp_path):
    src = tmp_path / "mod"
    src.mkdir()
    (src / "c.yml").write_text(
        "type: command\nname: w\noutputs: {o: {type: uri_folder}}\n"
        "code: .\ncommand: echo changed > data.txt && cp data.txt ${{outputs.o}}/\n"
    )
    (src / "data.txt").write_text("original\n")
    cli("module", "run", str(src / "c.yml"), "-o", f"o={tmp_path / 'o'}", cwd=tmp_path, check=True)
    assert (src / "data.txt").read_text() == "original\n"
    assert (tmp_path / "o/data.txt").read_text() == "changed\n"


def test_python_api_load_module_run(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))
    m = amlrun.load_module(DATA / "v2comp/component.yml")
    result = m.run(**{"text_file": DATA / "input.txt", "report": tmp_path / "r"})
    assert result.ok and json.loads((tmp_path / "r/report.json").read_text())["lines"] == 3


def test_a_typed_function_is_a_module_that_runs_and_writes_out_as_a_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))
    code = tmp_path / "code"
    code.mkdir()
    (code / "fn.py").write_text(
        "from pathlib import Path\nimport amlrun\n"
        "@amlrun.module(name='double', version='2')\n"
        "def double(data: amlrun.Input(type='uri_file'), out: amlrun.Output(type='uri_folder'),"
        " factor: int = 2, tag: str = None):\n"
        "    n = int(Path(data).read_text())\n"
        "    Path(out, 'n.txt').write_text(str(n * factor) + (tag or ''))\n"
    )
    (tmp_path / "n.txt").write_text("21")
    import importlib.util

    spec = importlib.util.spec_from_file_location("fn", code / "fn.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m = mod.double
    assert [p.name for p in m.inputs] == ["data"] and m.parameter("factor").default == 2
    result = m.run(data=tmp_path / "n.txt", out=tmp_path / "o")
    assert result.ok, result.log.read_text()
    assert (tmp_path / "o/n.txt").read_text() == "42"
    (code / "double.yml").write_text(m.to_yaml())
    again = amlrun.load_module(code / "double.yml")
    assert again.identity()["parameters"] == m.identity()["parameters"]
    assert [p.name for p in again.outputs] == ["out"]
