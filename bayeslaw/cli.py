"""The ``bayeslaw`` command line: parses arguments and calls the library, nothing more.

Errors from bad input exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bayeslaw.errors import BayeslawError

__all__ = ["main"]


def _cmd_summary(args: argparse.Namespace) -> int:
    from bayeslaw.data import load_observations

    obs = load_observations(args.data, split=args.split)
    print(f"{obs.source}: {len(obs)} rows, groups {list(obs.groups)}")
    print(obs.summary().to_string())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bayeslaw.datasets import simulate_moe

    sim = simulate_moe(n_groups=args.groups, seed=args.seed)
    obs = sim.observations
    print(f"SYNTHETIC demo data -- {obs.source}")
    print(f"{len(obs)} rows, groups {list(obs.groups)}")
    print(obs.summary().to_string())
    print("\ntrue per-group parameters (raw units):")
    print(sim.raw_group_params().to_string())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayeslaw",
        description="Hierarchical Bayesian scaling laws: fit, predict, report, evaluate.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    summary = sub.add_parser("summary", help="load a dataset, validate it and summarise it")
    summary.add_argument("data", help="datasets directory, CSV or Parquet file")
    summary.add_argument("--split", help="split of a DatasetDict (default: train, else first)")
    summary.set_defaults(func=_cmd_summary)

    demo = sub.add_parser("demo", help="run the main job on the built-in synthetic demo data")
    demo.add_argument("--out", default="bayeslaw-demo", help="output directory")
    demo.add_argument("--groups", type=int, default=3, help="number of synthetic groups")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input)."""
    args = _parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BayeslawError as err:
        print(f"bayeslaw: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
