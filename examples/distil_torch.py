"""Distil a CMA-ES-trained tap-withdrawal controller into another circuit by gradient descent.

Run:  python examples/distil_torch.py [--episodes 8] [--steps 100] [--fit-steps 100] [--out F]

1. CMA-ES (sim.train) trains the tap-withdrawal circuit of Cook 2019 to balance
   CartPole-v1 (the teacher; it reaches the 500-step maximum in a few generations).
2. The teacher plays ``episodes`` episodes in gymnasium; its observations and its outputs
   ``tanh(y)`` (the value whose sign is the action) on the first ``steps`` steps are recorded.
3. A different circuit, the same one with the DVA interneuron ablated, starts from the middle
   of its parameter ranges and is fitted to those outputs by backpropagation through time
   (sim.torch.fit: wiring and signs fixed, the CMA-ES trainer's parameter groups and ranges).
4. The student runs back in numba (sim.rollout) and in gymnasium's own CartPole
   (sim.evaluate) on 20 held-out episodes: the two give the same returns.

Prints the teacher's score, the fit's loss, and the student's returns both ways; ``--out``
saves the student as a controller JSON file (``python -m sim evaluate`` replays it).
"""

import argparse

import gymnasium
import numpy as np
import torch

import connectome
from sim import Controller, evaluate, rollout, train
from sim.torch import CircuitModule, fit


def record(controller, episodes, steps, seed):
    """Observations (E, steps, obs_dim) of the controller's own gymnasium episodes and a mask
    (E, steps) of the steps that happened (an episode may end early)."""
    env = gymnasium.make(controller.env.env_id)
    obs = np.zeros((episodes, steps, controller.env.obs_dim))
    mask = np.zeros((episodes, steps))
    for e in range(episodes):
        o, _ = env.reset(seed=seed + e)
        controller.reset()
        for t in range(steps):
            obs[e, t], mask[e, t] = o, 1.0
            o, _, terminated, truncated, _ = env.step(controller.act(o))
            if terminated or truncated:
                break
    env.close()
    return obs, mask


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=8, help="teacher episodes recorded")
    ap.add_argument("--steps", type=int, default=100, help="steps recorded per episode")
    ap.add_argument("--fit-steps", type=int, default=100, help="gradient steps")
    ap.add_argument("--lr", type=float, default=0.05, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="save the student controller here (JSON)")
    args = ap.parse_args(argv)

    tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    result = train(tw, "CartPole-v1", seed=args.seed, generations=50, target=500.0)
    teacher = result.controller
    print(f"teacher (CMA-ES, {result.generations} generations): validation score {result.score}")

    obs, mask = record(teacher, args.episodes, args.steps, seed=1000)
    with torch.no_grad():
        y, _ = CircuitModule(teacher)(torch.from_numpy(obs))
    target = torch.tanh(y).numpy()

    student = Controller.from_circuit(tw.ablate(["DVA"]), "CartPole-v1")
    print(f"student: {student}")
    fitted = fit(student, obs, target, read="tanh", steps=args.fit_steps, lr=args.lr, weights=mask)
    print(f"BPTT fit: loss {fitted.history[0]:.4f} -> {fitted.loss:.5f} in {args.fit_steps} steps")

    seeds = list(range(20))
    numba_returns, _ = rollout(fitted.controller, seeds)
    gym = evaluate(fitted.controller, seeds=seeds)
    same = bool(np.array_equal(numba_returns[0], np.array(gym.returns)))
    print(
        f"student in numba:     mean return {numba_returns.mean():.1f} over {len(seeds)} episodes"
    )
    print(f"student in gymnasium: mean return {gym.mean:.1f} (same returns as numba: {same})")
    if args.out:
        fitted.controller.save(args.out)
        print(f"saved {args.out}")
    return {"teacher": result.score, "loss": fitted.loss, "numba": numba_returns[0], "gym": gym}


if __name__ == "__main__":
    main()
