"""Computing each step's key from its module, snapshot, environment, params and inputs.

Everything expensive is memoized per run: a module's identity, a snapshot's tree hash (via
the stat cache), a backend's environment identity, a data path's content hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.engine.key import KeyParts
from amlrun.errors import SpecError
from amlrun.hashing import StatCache, hash_json
from amlrun.pipelines.model import Binding, Step
from amlrun.snapshot.environment import environment_spec_identity
from amlrun.spec.model import Code, Module
from amlrun.spec.names import folder_name


class KeyCalculator:
    def __init__(self, statcache: StatCache) -> None:
        self.statcache = statcache
        self._snapshots: dict[Code, Any] = {}
        self._envs: dict[tuple[str, str], str] = {}
        #: id(environment) -> (it, its spec identity hash): once per run, not once per step
        #: (a build context is a folder hash); the environment is kept so its id stays its own
        self._env_specs: dict[int, tuple[object, str]] = {}
        self._paths: dict[str, tuple[dict, str, bool]] = {}

    def snapshot(self, code: Code):
        """The Snapshot of ``code`` (an empty one for inline commands without code)."""
        snap = self._snapshots.get(code)
        if snap is None:
            from amlrun.snapshot.tree import take_snapshot

            snap = self._snapshots[code] = take_snapshot(code, self.statcache)
        return snap

    def environment(self, module: Module, backend) -> str:
        env = module.environment
        known = self._env_specs.get(id(env))
        if known is None:
            known = self._env_specs[id(env)] = (env, hash_json(environment_spec_identity(env)))
        ident = known[1]
        key = (ident, backend.name)
        h = self._envs.get(key)
        if h is None:
            h = self._envs[key] = hash_json(
                [ident, backend.environment_identity(module.environment)]
            )
        return h

    def data(self, path: str) -> tuple[dict, str, bool]:
        """(entries, content hash, is_file) of local data bound to an input."""
        got = self._paths.get(path)
        if got is None:
            if "://" in path:
                got = _remote_fingerprint(path)
            else:
                from amlrun.snapshot.tree import hash_path

                if not Path(path).exists():
                    raise SpecError(
                        f"input data {path} does not exist",
                        fix="create it, or bind the input to an existing path",
                    )
                got = hash_path(Path(path), self.statcache)
            self._paths[path] = got
        return got

    def changed_input(self, step: Step) -> tuple[str, str] | None:
        """(input, path) of local data bound to ``step`` that no longer hashes as it did for
        its key (a command that wrote to its input, or an edit while the step ran)."""
        from amlrun.snapshot.tree import hash_path

        for port in step.module.inputs:  # the bindings ``parts`` keyed as local data
            b = step.bindings.get(port.name)
            if b is None or b.kind not in ("path", "literal"):
                continue
            path = local_data_path(b)
            known = self._paths.get(path)
            if known is None or "://" in path:
                continue
            try:
                if hash_path(Path(path), self.statcache)[1] != known[1]:
                    return port.name, path
            except SpecError:  # removed meanwhile
                return port.name, path
        return None

    def parts(self, step: Step, backend, upstream: dict[str, dict]) -> KeyParts:
        """Key components; ``upstream`` maps step name -> its manifest."""
        from amlrun.spec.params import resolve_params

        module = step.module
        assert module is not None
        literals = {
            k: b.value
            for k, b in step.bindings.items()
            if b.kind == "literal" and module.parameter(k) is not None
        }
        params = resolve_params(module, literals, file=step.source)
        inputs: dict[str, str | None] = {}
        file_names: dict[str, str] = {}
        for port in module.inputs:
            b = step.bindings.get(port.name)
            seen = self._input(b, upstream) if b else None
            inputs[port.name] = seen and seen[0]
            if seen and seen[1]:
                file_names[port.name] = seen[1]
        return KeyParts(
            module=module.identity_hash,
            snapshot=self.snapshot(module.code).tree_hash,
            environment=self.environment(module, backend),
            params=params,
            inputs=inputs,
            env_vars={k: hash_json(v) for k, v in sorted(effective_env_vars(step).items())},
            file_names=file_names,
        )

    def _input(self, b: Binding, upstream: dict[str, dict]) -> tuple[str, str] | None:
        """(content hash, file name or "") of what ``b`` binds: the command sees both."""
        from amlrun.snapshot.tree import entries_hash

        if b.kind == "step":
            out = upstream[b.step]["outputs"].get(b.output) or {}
            name = folder_name(b.output) if out.get("is_file") else ""
            return entries_hash(out.get("entries") or {}), name
        if b.kind in ("path", "literal"):  # a literal bound to a data port: a path as text
            path = local_data_path(b)
            _, digest, is_file = self.data(path)
            return digest, (path.rstrip("/").rsplit("/", 1)[-1] if is_file else "")
        return None


def local_data_path(b: Binding) -> str:
    """The data a path binding (or a literal bound to a data port, a path as text) names,
    as both the key and the job see it."""
    return str(b.value) if b.kind == "path" else str(Path(str(b.value)).resolve())


def effective_env_vars(step: Step) -> dict[str, str]:
    """The variables a step's command gets from its spec: component level, node level over it."""
    module_vars = dict(step.module.environment.variables) if step.module is not None else {}
    return {**module_vars, **step.env_vars}


def _remote_fingerprint(url: str) -> tuple[dict, str, bool]:
    """Remote data is identified by the store's own fingerprint (ETag/size/mtime), not bytes."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    info = fs.info(path)
    keep = {
        k: str(info.get(k))
        for k in ("ETag", "etag", "size", "mtime", "LastModified", "version_id", "md5")
        if info.get(k) is not None
    }
    return {}, hash_json({"url": url, "fingerprint": keep}), info.get("type") == "file"
