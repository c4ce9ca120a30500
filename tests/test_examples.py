"""The newcomer's examples run as the README says (short durations)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_kunert_plm_example_runs(tmp_path):
    """examples/kunert_plm.py prints its summary and saves its plot (matplotlib, test extra)."""
    out = tmp_path / "plm.png"
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples/kunert_plm.py"), "--duration", "3",
         "--settle", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("no input: largest deviation from the fixed point over 2 s = ")
    assert float(lines[0].split("= ")[1].split()[0]) < 1e-3  # the rest is a fixed point
    assert lines[1].startswith("PLM 2000 pA: period ")
    assert lines[-1] == f"plot saved to {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_distil_torch_example_runs_back_in_numba_and_gymnasium(tmp_path):
    """examples/distil_torch.py: a CMA-ES teacher, a BPTT student on another circuit, the
    student replayed in numba and in gymnasium with the same returns (torch extra)."""
    out = tmp_path / "student.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples/distil_torch.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("validation score 500.0")
    loss = float(lines[2].split("-> ")[1].split()[0])
    assert loss < 0.01
    numba_mean = float(lines[3].split("mean return ")[1].split()[0])
    gym_mean = float(lines[4].split("mean return ")[1].split()[0])
    assert lines[4].endswith("(same returns as numba: True)")
    assert numba_mean == gym_mean >= 475.0  # CartPole-v1's solved threshold
    assert lines[-1] == f"saved {out}" and out.exists()
