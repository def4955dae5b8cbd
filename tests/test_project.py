"""Project-level guards: the public API, the conda env, notebooks stored clean, pure modules."""

import json
import re
import tomllib
import types
from pathlib import Path

import yaml

import whyloop

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0].strip().lower()


def test_environment_yml_matches_pyproject_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    wanted = {CONDA_NAMES.get(_name(d), _name(d)) for d in deps}
    assert wanted <= conda, f"missing from environment.yml: {sorted(wanted - conda)}"
    assert conda - wanted <= {"python", "pip"}, f"not in pyproject: {sorted(conda - wanted)}"


def test_public_api_all_matches_names():
    # submodules become attributes once imported anywhere; only the API proper counts
    public = {
        n
        for n in dir(whyloop)
        if not n.startswith("_") and not isinstance(getattr(whyloop, n), types.ModuleType)
    }
    assert set(whyloop.__all__) - {"__version__"} == public


def test_the_readme_documents_every_public_name():
    readme = (ROOT / "README.md").read_text()
    missing = [n for n in whyloop.__all__ if n != "__version__" and f"`{n}`" not in readme]
    assert not missing, f"public names the README does not mention: {missing}"


def test_notebooks_are_stored_without_outputs():
    for nb_path in (ROOT / "notebooks").rglob("*.ipynb"):
        nb = json.loads(nb_path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{nb_path.name} has stored outputs"
                assert cell.get("execution_count") is None, f"{nb_path.name} has execution counts"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_runnable_example_runs(monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("Runnable as is against the bundled sample:", 1)[1]
    code = block.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    assert "WebSocket" in capsys.readouterr().out
