"""Placeholder values reach a shell command as one literal argument, in every shell context.

Each case renders a v2 command with a hostile value and executes it with /bin/sh; the
command writes what it received to ``out``, which must be exactly the literal value, and
nothing the value tries to run (``touch PWNED``) may happen. Contexts where no literal can
be guaranteed are refused when the spec loads, naming the construct.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from amlrun.cache.store import open_store
from amlrun.errors import SpecError
from amlrun.spec.load import load_module
from amlrun.spec.params import resolve_params
from amlrun.spec.render import render
from tests.helpers import amlrun as cli
from tests.helpers import run_json, statuses
from tests.pipeline_ws import make_workspace

V = "${{inputs.v}}"

#: context -> (command, what `out` must hold for value v)
CONTEXTS = {
    "unquoted": (f"printf %s {V} > out", lambda v: v),
    "single-quoted": (f"printf %s '{V}' > out", lambda v: v),
    "double-quoted": (f'printf %s "{V}" > out', lambda v: v),
    "inside a quoted word": (f"printf %s 'pre-'{V}\"-post\" > out", lambda v: f"pre-{v}-post"),
    "--x=": (f"printf %s --x={V} > out", lambda v: f"--x={v}"),
    "assignment": (f'X={V}; printf %s "$X" > out', lambda v: v),
    "backticks": (f"x=`printf %s {V} > out`", lambda v: v),
    "quoted backticks": (f'x="`printf %s {V} > out`"', lambda v: v),
    "$( )": (f"x=$(printf %s {V} > out)", lambda v: v),
    "quoted $( )": (f'x="$(printf %s "{V}" > out)"', lambda v: v),
    "heredoc": (f"cat > out <<EOF\n{V}\nEOF", lambda v: v + "\n"),
    "heredoc <<-": (f"cat > out <<-EOF\n\t{V}\n\tEOF", lambda v: v + "\n"),
    "after a heredoc": (f"cat <<'EOF' >/dev/null\n$(touch PWNED)\nEOF\nprintf %s {V} > out", str),
    "${X:-}": (f'printf %s "${{UNSET_X:-{V}}}" > out', lambda v: v),
    "unquoted ${X:-}": (f"printf %s ${{UNSET_X:-{V}}} > out", lambda v: v),
    "in a comment": (f"printf %s ok > out # {V}", lambda v: "ok"),
    "in a function": (f"f() {{ printf %s {V} > out; }}; f other", lambda v: v),
    "after set --": (f"set -- a b; printf %s {V} > out", lambda v: v),
    "case word": (f"case {V} in *) printf %s {V} > out;; esac", lambda v: v),
    "subshell": (f"(printf %s {V} > out)", lambda v: v),
}

VALUES = [
    "plain",
    "",
    "two words",
    "it's",
    'say "hi"',
    "$HOME",
    "${HOME}",
    "$(touch PWNED)",
    "`touch PWNED`",
    "back\\slash\\",
    "\\",
    "; touch PWNED",
    "a && touch PWNED",
    "*",
    "-n",
    "line1\nline2",
    "\ntouch PWNED\n",
    "EOF\ntouch PWNED\nEOF",
    "'; touch PWNED; '",
    '"; touch PWNED; "',
    "}; touch PWNED; {",
    "$((1+1))",
    " lead and trail \t",
]

REFUSED = {
    "quoted heredoc": (f"cat <<'EOF'\n{V}\nEOF", "quoted delimiter"),
    "double-quoted heredoc delimiter": (f'cat <<"EOF"\n{V}\nEOF', "quoted delimiter"),
    "backslash-quoted heredoc delimiter": (f"cat <<\\EOF\n{V}\nEOF", "quoted delimiter"),
    "$(( ))": (f"echo $(( {V} + 1 ))", "arithmetic"),
    "(( )) command": (f"if (( {V} > 1 )); then echo big; fi", "arithmetic"),
    "after a backslash": (f"echo \\{V}", "after a backslash"),
    "after a backslash in double quotes": (f'echo "\\{V}"', "after a backslash"),
    "after $": (f'echo "${V}"', "after '$'"),
    "heredoc delimiter": (f"cat <<{V}\nx\n", "heredoc delimiter"),
}


def _spec(tmp_path, command: str, vtype: str = "string", style: str = "v2"):
    spec = tmp_path / "c.yml"
    doc = {"type": "command", "name": "x", "inputs": {"v": {"type": vtype}}, "command": command}
    if style == "sdk20":  # the same command with sdk-2.0 placeholders
        doc["$schema"] = "http://azureml/sdk-2-0/CommandComponent.json"
        doc.update(type="CommandComponent", command=command.replace(V, "{inputs.v}"))
    spec.write_text(yaml.safe_dump(doc))
    return spec


def _run(tmp_path, command: str, value, vtype: str = "string", style: str = "v2") -> str:
    module = load_module(_spec(tmp_path, command, vtype, style))
    work = tmp_path / "work"
    work.mkdir()
    (work / "decoy").write_text("a glob would expand to this name")
    rendered = render(module, resolve_params(module, {"v": value}))
    subprocess.run(rendered.argv, cwd=work, check=True, timeout=10, stdin=subprocess.DEVNULL)
    assert not (work / "PWNED").exists(), rendered.argv
    return (work / "out").read_text()


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_value_reaches_the_command_as_exactly_its_literal_text(tmp_path, context, value):
    command, expected = CONTEXTS[context]
    assert _run(tmp_path, command, value) == expected(value)


@pytest.mark.parametrize("value", VALUES[::3], ids=repr)
@pytest.mark.parametrize("context", CONTEXTS)
def test_an_sdk20_value_reaches_the_command_as_exactly_its_literal_text(tmp_path, context, value):
    command, expected = CONTEXTS[context]
    assert _run(tmp_path, command, value, style="sdk20") == expected(value)


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_nul_in_a_value_is_refused_before_anything_runs(tmp_path, context):
    module = load_module(_spec(tmp_path, CONTEXTS[context][0]))
    with pytest.raises(SpecError, match="'v' contains a NUL character"):
        render(module, resolve_params(module, {"v": "a\0b"}))


@pytest.mark.parametrize("context", REFUSED)
def test_a_placeholder_where_no_literal_is_possible_is_refused_at_load(tmp_path, context):
    command, construct = REFUSED[context]
    with pytest.raises(SpecError, match=re.escape(construct)) as err:
        load_module(_spec(tmp_path, command))
    assert "c.yml" in str(err.value) and "command" in str(err.value) and "Fix:" in str(err.value)


def test_an_integer_parameter_may_sit_in_arithmetic(tmp_path):
    assert _run(tmp_path, f"printf %s $(( {V} + 1 )) > out", "41", vtype="integer") == "42"


def test_the_readable_command_line_quotes_each_value_for_its_context(tmp_path):
    module = load_module(_spec(tmp_path, f"echo {V} '{V}' \"{V}\""))
    text = render(module, resolve_params(module, {"v": "it's $X"})).text
    assert text == "echo 'it'\"'\"'s $X' 'it'\\''s $X' \"it's \\$X\""


CLI_CONTEXTS = ("unquoted", "single-quoted", "double-quoted", "--x=", "assignment", "backticks")
CLI_CONTEXTS += ("$( )", "heredoc", "heredoc <<-", "in a comment", "in a function")


@pytest.mark.parametrize("context", CLI_CONTEXTS)
def test_module_run_with_a_hostile_parameter_creates_no_file(tmp_path, context):
    command = CONTEXTS[context][0].replace("> out", "> ${{outputs.o}}/out")
    doc = {
        "type": "command",
        "name": "x",
        "inputs": {"v": {"type": "string"}},
        "outputs": {"o": {"type": "uri_folder"}},
        "command": command,
    }
    (tmp_path / "c.yml").write_text(yaml.safe_dump(doc))
    pwned = tmp_path / "PWNED"
    value = f"x'\"; touch {pwned}; `touch {pwned}` $(touch {pwned})\ntouch {pwned}\n"
    proc = cli("module", "run", "c.yml", "-p", f"v={value}", "-o", "o=./o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.rglob("PWNED"))
    assert (tmp_path / "o" / "out").read_text() == CONTEXTS[context][1](value)


def test_module_run_refuses_a_quoted_heredoc_placeholder_with_exit_2(tmp_path):
    _spec(tmp_path, REFUSED["quoted heredoc"][0])
    proc = cli("module", "run", "c.yml", "-p", "v=x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "quoted delimiter" in proc.stderr and "Traceback" not in proc.stderr


def test_a_hostile_pipeline_input_reaches_its_step_as_one_literal(tmp_path):
    pipeline = make_workspace(tmp_path)
    text = pipeline.read_text().replace("  epochs: 1\n", "  epochs: 1\n  word: hi\n")
    text = text.replace(
        "component: ./side/side.yml",
        "component: ./side/side.yml\n    inputs:\n      word: ${{parent.inputs.word}}",
    )
    pipeline.write_text(text)
    side = tmp_path / "side/side.yml"
    doc = yaml.safe_load(side.read_text())
    doc["command"] += " # ${{inputs.word}}"
    side.write_text(yaml.safe_dump(doc))
    value = f"x\ntouch {tmp_path}/PWNED\n#"  # injected through the comment before
    result = run_json(str(pipeline), "--set", f"inputs.word={json.dumps(value)}", cwd=tmp_path)
    assert statuses(result)["side"] == "ran", result
    assert not list(tmp_path.rglob("PWNED"))
    store = open_store(str(tmp_path / ".amlrun/cache"), tmp_path)
    key = next(s["key"] for s in result["steps"] if s["name"] == "side")
    out = store.get_manifest(key)["outputs"]["o"]
    store.materialize(out["entries"], tmp_path / "side-out", out["is_file"])
    assert (tmp_path / "side-out").read_text() == value * 3


#: commands of plain words (no shell syntax): started without /bin/sh, with the same words
PLAIN = [
    f"python argv.py {V}",
    f"python argv.py --x={V} tail",
    f"python   argv.py pre{V}post   {V}  ",
    f"python argv.py {V}{V}",
]
#: commands the shell must run: syntax, builtins, assignments, a program from a value
NEEDS_SHELL = [
    f"echo {V}",
    f"X=1 python argv.py {V}",
    "cd sub",
    f"time python argv.py {V}",
    "source env.sh",
    f"python argv.py ~/{V}",
    f"python argv.py *.txt {V}",
    f"python argv.py {V} # note",
    f"python argv.py {V}\npython argv.py",
    f"python argv.py {V}; touch PWNED",
    f"{V} argv.py",
    f"python argv.py {V} > out",
]
ARGV_PY = "import json, sys; open('out', 'w').write(json.dumps(sys.argv[1:]))\n"


def _words(tmp_path, argv: list[str]) -> list[str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "argv.py").write_text(ARGV_PY)
    (work / "out").unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(argv, cwd=work, env=env, check=True, timeout=20, stdin=subprocess.DEVNULL)
    assert not (work / "PWNED").exists(), argv
    return json.loads((work / "out").read_text())


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("command", PLAIN)
def test_a_plain_command_started_without_a_shell_gets_the_words_the_shell_gives(
    tmp_path, command, value
):
    module = load_module(_spec(tmp_path, command))
    rendered = render(module, resolve_params(module, {"v": value}))
    assert rendered.plain is not None and rendered.plain[0] == "python"
    assert _words(tmp_path, rendered.plain) == _words(tmp_path, rendered.argv)


@pytest.mark.parametrize("command", NEEDS_SHELL)
def test_a_command_with_shell_syntax_is_left_to_the_shell(tmp_path, command):
    module = load_module(_spec(tmp_path, command))
    assert render(module, resolve_params(module, {"v": "x"})).plain is None
