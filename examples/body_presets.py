"""Drive ElegansBot's body with the graded Kunert network under each body preset.

For each preset of :data:`sim.body.PRESETS` (PLM touch, ALM/AVM touch, AVA and AVB
activation): simulate the network, drive the body on agar (or water), print where the worm
went, and save a kymogram + trajectory PNG. Needs the ``body`` and ``examples`` extras.

    python examples/body_presets.py --dataset varshney2011 --duration 5 --out out/
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import connectome
from sim.body import PRESETS, BodyParams, FeedbackParams, simulate_body
from sim.muscles import MuscleParams


def save_png(path, key, dataset, net, worm):
    """Kymogram (curvature along the body vs time) beside the centroid and head tracks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.3, 1]})
    k = worm.curvature
    lim = max(float(np.abs(k).max()), 1e-6)
    im = ax1.imshow(
        k.T,
        aspect="auto",
        origin="upper",
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        extent=(worm.t[0], worm.t[-1], k.shape[1] - 0.5, -0.5),
    )
    ax1.set_xlabel("time (s)")
    ax1.set_ylabel("joint (0 = head, 23 = tail)")
    ax1.set_title("kymogram: curvature (1/mm, red = dorsal concave)")
    fig.colorbar(im, ax=ax1)
    c = worm.centroid
    ax2.plot(worm.xy[:, 0, 0], worm.xy[:, 0, 1], color="orange", lw=0.8, label="head")
    ax2.plot(c[:, 0], c[:, 1], color="k", lw=1.2, label="centroid")
    for i in np.linspace(0, len(worm.t) - 1, 6).astype(int):
        fade = 0.25 + 0.6 * i / len(worm.t)
        ax2.plot(worm.xy[i, :, 0], worm.xy[i, :, 1], color="grey", alpha=fade)
    ax2.plot(*worm.xy[-1, 0], "o", color="orange")
    ax2.set_aspect("equal", adjustable="datalim")
    ax2.set_xlabel("x (mm)")
    ax2.set_ylabel("y (mm)")
    s = worm.summary()
    ax2.set_title(
        f"{s['direction']}: {s['steady_forward_speed']:+.3f} mm/s along the body (2nd half), "
        f"{s['mean_forward_speed']:+.3f} (run)",
        fontsize=10,
    )
    ax2.legend(loc="best", fontsize=8)
    stim = ", ".join(PRESETS[key]["stimuli"])
    fb = "" if worm.feedback is None else f", feedback {worm.feedback.params.gain:g} pA mm"
    fig.suptitle(f"{PRESETS[key]['label']} ({stim}) on {dataset}, {worm.params.friction}{fb}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tag(args):
    return (
        f"{args.dataset}_{args.friction}"
        + ("_rest" if args.reference == "rest" else "")
        + ("" if args.feedback is None else f"_fb{args.feedback:g}")
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="varshney2011")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--friction", default="agar", choices=("agar", "water"))
    parser.add_argument("--record-every", type=int, default=1)
    parser.add_argument("--preset", action="append", choices=sorted(PRESETS))
    parser.add_argument(
        "--reference",
        default="threshold",
        choices=("threshold", "rest"),
        help="motor neuron drive measured from Vth of the input (modWorm) or at rest",
    )
    parser.add_argument(
        "--feedback",
        type=float,
        metavar="GAIN",
        help="proprioceptive feedback into VB/DB, pA mm (Wen et al. 2012; sim.body.FeedbackParams)",
    )
    parser.add_argument("--feedback-reach", type=float, default=FeedbackParams.reach)
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = connectome.load(args.dataset)
    rows = {}
    feedback = None
    if args.feedback is not None:
        feedback = FeedbackParams(gain=args.feedback, reach=args.feedback_reach)
    for key in args.preset or PRESETS:
        tic = time.perf_counter()
        net, worm = simulate_body(
            source,
            list(PRESETS[key]["stimuli"]),
            duration=args.duration,
            record_every=args.record_every,
            body=BodyParams(friction=args.friction),
            muscles=MuscleParams(reference=args.reference),
            feedback=feedback,
        )
        wall = time.perf_counter() - tic
        tag = _tag(args)
        png = out / f"body_{key}_{tag}.png"
        save_png(png, key, args.dataset, net, worm)
        s = worm.summary()
        wave = worm.wave()
        rows[key] = {
            **s,
            "wave": wave,
            "wall_s": wall,
            "png": str(png),
            "missing": list(worm.missing),
        }
        print(
            f"{PRESETS[key]['label']:15s} {s['direction']:8s} forward speed "
            f"{s['steady_forward_speed']:+.4f} mm/s (2nd half), {s['mean_forward_speed']:+.4f} "
            f"(run), displacement {s['displacement']:.3f} mm, "
            f"max |curvature| {s['max_curvature']:.2f}/mm, swing {s['curvature_swing']:.2f}/mm, "
            f"wave {wave['direction']} ({wave['frequency']:.2f} Hz, phase span "
            f"{wave['phase_span']:+.2f} rad, {wave['speed']:.3f} body lengths/s) "
            f"({wall:.1f} s) -> {png}"
        )
    tag = _tag(args)
    (out / f"body_{tag}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
