"""notebooks/explore.ipynb runs top to bottom on a fresh kernel, and is committed without outputs (issue 7).

The kernel is this interpreter (the test venv's python, where loganalyzer is
installed): the test writes its own ``python3`` kernelspec, whose argv names
``sys.executable``, into a temporary directory and looks kernels up only there, so
neither a user-wide kernelspec nor whatever ``python`` is first on PATH can stand in.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STRIP = "jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"
TIMEOUT = 180  # seconds per cell
CHARTS = {"explore.ipynb": 3}  # charts each notebook draws (rendered as PNG outputs)


def _kernel(tmp_path: Path) -> AsyncKernelManager:
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher`` and nothing else."""
    kernels = tmp_path / "kernels"
    write_kernel_spec(kernels / "python3")
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


def test_there_is_a_notebook() -> None:
    assert ROOT / "notebooks" / "explore.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} keep outputs; strip them: {STRIP}"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh kernel: no user IPython profile or startup files, connection files in tmp,
    # and matplotlib's inline backend (PNG outputs, no display needed) whatever the caller's MPLBACKEND.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    client = NotebookClient(
        nb, km=_kernel(tmp_path), timeout=TIMEOUT, resources={"metadata": {"path": str(ROOT)}}, allow_errors=False
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # IPython colours its tracebacks
        pytest.fail(f"{path.name}: a cell failed:\n{plain}", pytrace=False)
    assert _stdout(nb.cells[-1]).strip() == sys.executable, "the notebook ran on another interpreter"
    images = [
        o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if "image/png" in o.get("data", {})
    ]
    assert len(images) >= CHARTS.get(path.name, 0), "the charts did not render"


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
