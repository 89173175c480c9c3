"""The implementation of a v1 module spec: its container or parallel command, environment."""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.spec.common import conda_environment, read_conda
from amlrun.spec.model import Command, Environment, Parallel, Text
from amlrun.spec.shape import mapping, sequence, what
from amlrun.spec.template import parse_v1_args

CONTAINER_KEYS = {
    "amlEnvironment",
    "image",
    "conda",
    "command",
    "args",
    "additionalIncludes",
    "entry",
}
PARALLEL_KEYS = {
    "amlEnvironment",
    "image",
    "conda",
    "inputData",
    "outputData",
    "entry",
    "args",
    "additionalIncludes",
}


def implementation(
    doc: dict, path: Path, diags: Diagnostics
) -> tuple[Command, dict, str, str, Parallel | None]:
    """(command, implementation body, its field, job type, parallel settings)."""
    impl = doc.get("implementation")
    if not isinstance(impl, dict):
        raise SpecError(
            "the module has no implementation",
            file=path,
            line=line_of(doc),
            field="implementation",
            fix="add implementation.container with command and args",
        )
    job_type = str(doc.get("jobType") or "basic").lower()
    parallel = None
    if "container" in impl:
        body = mapping(impl, "container", file=path, where="implementation", names=False)
        where = "implementation.container"
        diags.unknown_keys(body, CONTAINER_KEYS, file=path, where=where)
        command = _container_command(body, path, diags, where)
    elif "parallel" in impl:
        body = mapping(impl, "parallel", file=path, where="implementation", names=False)
        where = "implementation.parallel"
        diags.unknown_keys(body, PARALLEL_KEYS, file=path, where=where)
        entry = body.get("entry")
        args = parse_v1_args(
            sequence(body, "args", file=path, where=where),
            file=path,
            diags=diags,
            field=f"{where}.args",
        )
        command = Command("argv", (Text("python"), Text(str(entry)), *args))
        data = body.get("inputData") or []
        parallel = Parallel(
            input_data=tuple([data] if isinstance(data, str) else data),
            output_data=body.get("outputData"),
            entry_script=entry,
        )
        job_type = "parallel"
    elif "hdinsight" in impl:
        raise SpecError(
            "hdinsight (Spark) modules cannot run locally",
            file=path,
            line=line_of(impl, "hdinsight"),
            field="implementation.hdinsight",
            fix="run it on Azure ML, or port it to a container implementation",
        )
    else:
        raise SpecError(
            "implementation needs one of container, parallel, hdinsight",
            file=path,
            line=line_of(impl),
            field="implementation",
            fix="add implementation.container with command and args",
        )
    return command, body, where, job_type, parallel


def _container_command(body: dict, path: Path, diags: Diagnostics, where: str) -> Command:
    cmd = body.get("command")
    if cmd is None and body.get("entry"):  # G0: entry script
        cmd = ["python", body["entry"]]
    if cmd is None:
        raise SpecError(
            "the container has no command",
            file=path,
            line=line_of(body),
            field=f"{where}.command",
            fix="add command: [python, your_script.py]",
        )
    if isinstance(cmd, str):
        import shlex

        try:
            cmd = shlex.split(cmd)
        except ValueError as exc:  # an unclosed quote
            raise SpecError(
                f"the command cannot be split into words: {exc}",
                file=path,
                line=line_of(body, "command"),
                field=f"{where}.command",
                fix="close the quote, or write command: as a YAML list",
            ) from None
    if not isinstance(cmd, list):
        raise SpecError(
            f"the command must be a list or a string, not {what(cmd)}",
            file=path,
            line=line_of(body, "command"),
            field=f"{where}.command",
            fix="write command: [python, your_script.py]",
        )
    head = parse_v1_args(cmd, file=path, diags=diags, field=f"{where}.command")
    args = body.get("args") or []
    if not isinstance(args, list):
        raise SpecError(
            "'args' must be a list",
            file=path,
            line=line_of(body, "args"),
            field=f"{where}.args",
            fix="write args as a YAML list",
        )
    return Command(
        "argv", head + parse_v1_args(args, file=path, diags=diags, field=f"{where}.args")
    )


def container_environment(body: dict, root: Path, path: Path, where: str) -> Environment:
    aml = mapping(body, "amlEnvironment", file=path, where=where, names=False)
    image = body.get("image") or mapping(aml, "docker", file=path, names=False).get("baseImage")
    py = mapping(aml, "python", file=path, where=f"{where}.amlEnvironment", names=False)
    conda_file = body.get("conda") or py.get("condaDependenciesFile")
    conda = py.get("condaDependencies")
    missing = None
    if conda is None and conda_file:
        conda_path = root / str(conda_file)
        conda = read_conda(conda_path, file=path, line=line_of(body), field=f"{where}.conda")
        if conda is None:
            missing = conda_path
    if isinstance(conda, dict):
        from amlrun.spec.common import _plain

        conda = _plain(conda)
    return conda_environment(conda, conda_file and str(conda_file), image, missing)
