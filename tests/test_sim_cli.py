"""python -m sim run and warmup: files written, summary printed, errors reported."""

import io
import re
import subprocess
import sys

import pandas as pd
import pytest

import connectome
from sim import envs, kernels
from sim.cli import ProgressBar, main


def test_run_writes_csv_and_summary(tmp_path, capsys):
    out = tmp_path / "plm.csv"
    code = main(
        [
            "run", "--dataset", "varshney2011", "--stim", "PLM:step:amp=2000",
            "--duration", "0.5", "--record-every", "10", "--neurons", "VA,PLML",
            "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    df = pd.read_csv(out, index_col="t")
    assert df.shape == (501, 13) and {"PLML", "VA1", "VA12"} <= set(df.columns)
    assert df.index[-1] == pytest.approx(0.5)
    text = capsys.readouterr().out
    assert "graded model on varshney2011" in text and "synapse updates/s" in text
    assert "PLML" in text  # the most active neuron is the one stimulated


def test_run_parquet_with_ablation_and_params(tmp_path, capsys):
    out = tmp_path / "r.parquet"
    code = main(
        [
            "run", "--dataset", "cook2019", "--stim", "ALM:sine:amp=100,freq=2",
            "--ablate", "AVA,AVB", "--param", "gsyn=50", "--duration", "0.2", "--dt", "1e-3",
            "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    df = pd.read_parquet(out)
    assert df.shape == (201, 298) and "AVAL" not in df.columns
    assert "ablated AVAL, AVAR, AVBL, AVBR" in capsys.readouterr().out


def test_run_circuit_file_with_ltc(tmp_path, capsys):
    circ = connectome.Circuit.from_neurons(connectome.load("cook2019"), ["PLML", "PVCL", "AVAL"])
    path = tmp_path / "c.json"
    path.write_text(connectome.io.to_json(circ))
    code = main(["run", "--circuit", str(path), "--model", "ltc", "--stim", "PLML:step:amp=1",
                 "--duration", "10", "--quiet"])  # fmt: skip
    assert code == 0
    assert "ltc model on cook2019: 3 neurons" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stim", "PLMX:step:amp=1"], "did you mean"),
        (["--stim", "PLM:wiggle:amp=1"], "unknown stimulus kind"),
        (["--dt", "-0.1"], "dt"),
        (["--param", "Cm=3"], "unknown parameter"),
        (["--out", "x.txt"], ".csv or .parquet"),
    ],
)
def test_run_errors(argv, message, capsys):
    code = main(["run", "--dataset", "varshney2011", "--duration", "0.1", "--quiet", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_progress_bar_shows_only_after_delay():
    quiet, shown = io.StringIO(), io.StringIO()
    fast = ProgressBar(quiet, delay=10.0)
    for f in (0.5, 1.0):
        fast(f)
    assert quiet.getvalue() == ""
    slow = ProgressBar(shown, delay=0.0)
    for f in (0.25, 1.0):
        slow(f)
    assert "25.0%" in shown.getvalue() and shown.getvalue().endswith("\n")


def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "--stim" in proc.stdout


def test_warmup_command(capsys):
    """python -m sim warmup compiles (or loads) every kernel family and says how long it took."""
    assert main(["warmup"]) == 0
    assert re.fullmatch(r"kernels ready in \d+\.\d\d s\n", capsys.readouterr().out)
    for kernel in (kernels.run_chunks, kernels.ltc_step, envs.env_step, envs.env_observe):
        assert kernel.signatures, f"{kernel.__name__} was not compiled by the warmup command"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "warmup"], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kernels ready in ")


def test_run_records_a_few_thousand_samples_by_default_and_says_when_output_is_large(
    tmp_path, capsys
):
    from sim.cli import LARGE_OUTPUT_BYTES, RECORDS_BY_DEFAULT

    out = tmp_path / "plm.parquet"
    argv = ["run", "--dataset", "varshney2011", "--stim", "PLM:step:amp=2000",
            "--duration", "2", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    df = pd.read_parquet(out)
    # 20000 steps of 0.1 ms, every 4th kept: RECORDS_BY_DEFAULT samples and the start
    assert len(df) == RECORDS_BY_DEFAULT + 1
    assert "MB" not in capsys.readouterr().err  # 5001 x 280 floats: far below the note's size
    big = tmp_path / "plm.csv"
    rows = LARGE_OUTPUT_BYTES // (12 * 281) + 1  # a CSV just over the size that is said
    assert main([*argv[:-3], "--record-every", "1", "--duration", str(rows * 1e-4),
                 "--out", str(big), "--quiet"]) == 0  # fmt: skip
    assert f"writing {big}: about" in capsys.readouterr().err


def test_train_says_where_its_checkpoint_is(tmp_path, capsys):
    out = tmp_path / "cp.json"
    argv = ["train", "--preset", "tap_withdrawal", "--env", "CartPole-v1", "--generations", "1",
            "--episodes", "1", "--validation-episodes", "1", "-o", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"checkpoint {out}.ckpt.json (resume with --resume)" in text
    assert (tmp_path / "cp.json.ckpt.json").exists()
