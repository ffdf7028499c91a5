"""The ``bayeslaw`` command line: parses arguments and calls the library, nothing more.

Subcommands: ``summary``, ``fit``, ``predict``, ``demo`` (and ``report``, ``compare``,
``evaluate`` where the reports package provides them). Errors from bad input exit with
status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bayeslaw.errors import BayeslawError, ColumnError, DataError
from bayeslaw.models.likelihoods import LIKELIHOODS, NOISES
from bayeslaw.posterior.averaged import AveragedFit

__all__ = ["main"]

FORMS_HELP = (
    "law form: moe_additive (default), moe_multiplicative, moe_interaction, auto (the best "
    "held-out form), average (the applicable forms averaged by stacking), a family "
    "over named inputs (additive(x,y), chinchilla(N,D), chinchilla_tied(N,D), rectified(D), "
    "broken_power(x), kaplan(N,D)), or an expression such as "
    "'L_inf + B / (D_l + D**beta)' with --inputs D"
)


GROUP_COL_HELP = (
    "column holding the group (default: detected by alias), or several comma-separated "
    "crossed factors such as model,dataset (a group is then a cell 'gpt2 | flan')"
)


#: the option that maps each role to a column, for :func:`_column_hint`
_COLUMN_OPTIONS = {"loss_validation": "--loss-col C", "group": "--group-col C (or A,B)"}


def _column_hint(err: ColumnError) -> str:
    """How to fix ``err`` on the command line: its message names the Python API's
    ``columns=``; the CLI maps the loss and the groups by option and names other inputs."""
    option = _COLUMN_OPTIONS.get(err.role)
    if option is not None:
        return f"On the command line: {option}."
    return "On the command line: --inputs a,b names the input columns the law is fitted over."


def _inputs(args: argparse.Namespace) -> list[str] | None:
    text = getattr(args, "inputs", None)
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _group_columns(args: argparse.Namespace) -> list[str]:
    """``--group-col``: one column, or several comma-separated crossed factors."""
    text = getattr(args, "group_col", None) or ""
    return [name.strip() for name in text.split(",") if name.strip()]


def _columns(args: argparse.Namespace) -> dict[str, str]:
    columns = {}
    if getattr(args, "loss_col", None):
        columns["loss_validation"] = args.loss_col
    return columns


def _how(args: argparse.Namespace) -> dict[str, Any]:
    """How to read a table: columns, inputs and group column(s) from the options."""
    return {
        "columns": _columns(args),
        "inputs": _inputs(args),
        "groups": _group_columns(args) or None,
    }


def _load(args: argparse.Namespace) -> Any:
    from bayeslaw.data import load_observations

    return load_observations(args.data, split=args.split, **_how(args))


def _split_forms(text: str) -> list[str]:
    """Comma-separated forms, commas inside parentheses kept: ``chinchilla(N,D),kaplan(N,D)``."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def _forms(text: str, obs: Any, inputs: Sequence[str] | None) -> list[Any]:
    """``--forms``: ``auto`` (the forms that apply to the data's inputs) or a list of names
    and expressions."""
    from bayeslaw.evaluation.selection import applicable_forms
    from bayeslaw.models.registry import form_from_text

    if text == "auto":
        return list(applicable_forms(obs))
    return [form_from_text(f, inputs) for f in _split_forms(text)]


def _priors(value: str) -> Any:
    if value in ("default", "flat"):
        return value
    path = Path(value)
    if not path.is_file():
        raise DataError(f"--priors takes 'default', 'flat' or a JSON file of overrides: {value}")
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise DataError(f"--priors file {path} is not valid JSON: {err}") from err


def _cmd_summary(args: argparse.Namespace) -> int:
    obs = _load(args)
    print(f"{obs.source}: {len(obs)} rows, groups {list(obs.groups)}")
    print(obs.summary().to_string())
    return 0


def _centered(value: str) -> tuple[str, ...] | str | None:
    """``auto`` -> None (the fit's rule), ``data`` (chosen by a pilot fit), ``none`` -> (),
    else a comma-separated list."""
    if value == "auto":
        return None
    if value == "data":
        return value
    if value == "none":
        return ()
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _multiplicative(value: str | bool | None) -> bool | tuple[str, ...]:
    """``--multiplicative``'s coordinates: none when absent, ``fit``'s True (the level and
    the slopes) when the option is given bare, else the comma-separated names."""
    if value is True:
        return True
    if not value:
        return ()
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _writable_directory(path: str, option: str) -> Path:
    """``path`` if a directory can be written there, checked before any work is done."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise DataError(f"{option} {target} is a file; name a directory (new or existing)")
    return target


def _cmd_fit(args: argparse.Namespace) -> int:
    from bayeslaw.evaluation.selection import applicable_forms, fit
    from bayeslaw.models.expressions import describe
    from bayeslaw.models.registry import form_from_text
    from bayeslaw.reports.tables import compile_source

    _writable_directory(args.out, "--out")
    if args.form in ("auto", "average"):
        form = args.form
    else:
        form = form_from_text(args.form, _inputs(args))
        print(describe(form))
    obs = _load(args)
    result = fit(
        obs,
        form=list(applicable_forms(obs)) if form == "average" else form,
        method=args.method,
        pooling=args.pooling,
        priors=_priors(args.priors),
        likelihood=args.likelihood,
        noise=args.noise,
        centered=_centered(args.centered),
        interaction=args.interaction,
        multiplicative=_multiplicative(args.multiplicative),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sampler=args.sampler,
        random_seed=args.seed,
        progressbar=not args.quiet,
    )
    out = result.save(args.out)
    if isinstance(result, AveragedFit):
        weights = ", ".join(f"{k}: {w:.3f}" for k, w in result.stacking.items())
        print(f"averaged by stacking on the held-out largest size ({weights})")
        components = result.fits
    else:
        components = (result,)
    for component in components:
        model = component.record.model
        print(f"fitted {component.form_name} ({component.record.method}, {model.pooling} "
              f"pooling, {model.likelihood} likelihood, {model.noise} noise)")  # fmt: skip
        how = compile_source(component.record)
        print(f"on {len(obs)} rows in {component.wall_time:.1f} s ({how}); saved to {out}")
        print(component.params().round(6).to_string())
        for problem in component.record.convergence_problems:
            print(f"warning: {problem}", file=sys.stderr)
    return 0


def _input_text(path: str | None) -> tuple[str, str]:
    """The prediction rows as text, and where they came from (stdin or a file)."""
    if path is None or path == "-":
        raw, where = sys.stdin.buffer.read(), "standard input"
    else:
        file = Path(path)
        if not file.is_file():
            raise DataError(f"--input {file} does not exist or is not a file")
        raw, where = file.read_bytes(), f"--input {file}"
    try:
        return raw.decode("utf-8"), where
    except UnicodeDecodeError as err:
        raise DataError(f"{where} is not UTF-8 text ({err}); save it as UTF-8") from err


def _read_inputs(path: str | None) -> Any:
    """A DataFrame of prediction rows from CSV or a JSON list of row objects."""
    import io

    import pandas as pd

    text, where = _input_text(path)
    if not text.strip():
        raise DataError(f"{where} is empty; give rows as CSV with a header, or a JSON list")
    as_json = (path is not None and path.endswith(".json")) or text.lstrip()[:1] in "[{"
    try:
        if as_json:
            rows = json.loads(text)
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("expected a list of objects, one per row")
            return pd.DataFrame(rows)
        return pd.read_csv(io.StringIO(text))
    except ValueError as err:  # JSON and CSV parser errors
        kind = "a JSON list of row objects" if as_json else "CSV with a header row"
        raise DataError(f"{where} is not {kind}: {err}") from err


def _cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from bayeslaw.groups import join_levels, label_columns
    from bayeslaw.posterior.averaged import load_predictor

    result = load_predictor(args.fit_dir)
    inputs = _read_inputs(args.input)
    factors = list(label_columns(result.factors))
    if args.group is not None:
        groups = {args.group: inputs}
    elif "group" in inputs.columns:
        groups = {str(g): rows for g, rows in inputs.groupby("group", sort=False)}
    elif factors and set(factors) <= set(inputs.columns):
        cells = inputs[factors].astype(str).apply(join_levels, axis=1)
        groups = {str(g): rows for g, rows in inputs.groupby(cells, sort=False)}
    else:
        columns = (
            f"a 'group' column or the factor columns {factors}" if factors else "a 'group' column"
        )
        raise DataError(
            f"say which group to predict: --group G (fitted groups: {list(result.groups)}; "
            f"any other name uses the population level), or add {columns}"
        )
    frames = [
        result.predict(rows, group=g, ci_prob=args.ci, kind=args.kind) for g, rows in groups.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    if args.format == "csv":
        print(table.to_csv(index=False), end="")
    elif args.format == "json":
        print(table.to_json(orient="records", indent=2))
    else:
        print(f"{args.kind} loss: posterior mean and {args.ci:.0%} equal-tailed interval")
        print(table.to_string(index=False))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from bayeslaw.posterior.averaged import is_averaged, load_averaged
    from bayeslaw.posterior.fit import load_fit
    from bayeslaw.reports.render import write_report

    out = _writable_directory(args.out or args.fit_dir, "--out")
    if is_averaged(args.fit_dir):  # one report per averaged form, beside its fit
        average = load_averaged(args.fit_dir)
        for i, (component, weight) in enumerate(zip(average.fits, average.weights, strict=True)):
            print(f"{component.form_name} (weight {weight:.3f}):")
            fitted = load_fit(Path(args.fit_dir) / f"form_{i}", with_observations=True)
            for name, path in write_report(fitted, out / f"form_{i}").items():
                print(f"  {name}: {path}")
        return 0
    result = load_fit(args.fit_dir, with_observations=True)
    written = write_report(result, out)
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bayeslaw.demo import run_demo

    for line in run_demo(Path(args.out), n_groups=args.groups, seed=args.seed, quick=args.quick):
        print(line)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from bayeslaw.evaluation.comparison import compare_forms

    obs = _load(args)
    table = compare_forms(
        obs, _forms(args.forms, obs, _inputs(args)), pooling=args.pooling, random_seed=args.seed,
        draws=args.draws, tune=args.tune, chains=args.chains, progressbar=False, check=False,
    )  # fmt: skip
    if args.json:
        print(table.reset_index().to_json(orient="records", indent=2))
    else:
        print(f"forms on {obs.source}, best first (form='auto' takes the first):")
        print(table.round(4).to_string())
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from bayeslaw.data import load_observations
    from bayeslaw.evaluation.protocol import evaluate
    from bayeslaw.evaluation.scoring import split_largest

    how = _how(args)
    if args.test:
        train = load_observations(args.train, split=args.train_split, **how)
        test = load_observations(args.test, split=args.test_split, **how)
    elif args.test_split:
        # both splits of one DatasetDict: train on --train-split (default: its train split)
        train = load_observations(args.train, split=args.train_split, **how)
        if train.split is None:
            raise DataError(
                f"--test-split {args.test_split!r} needs --train to be a dataset with splits "
                f"(a DatasetDict); {args.train} has none: give the test data with --test"
            )
        test = load_observations(args.train, split=args.test_split, **how)
    else:
        train, test = split_largest(load_observations(args.train, split=args.train_split, **how))
    result = evaluate(
        train, test, forms=_forms(args.forms, train, _inputs(args)),
        poolings=args.poolings.split(","),
        random_seed=args.seed, draws=args.draws, tune=args.tune, chains=args.chains,
        progressbar=False, check=False,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        print(f"train: {result.train_source} ({len(train)} rows)")
        print(f"test:  {result.test_source} ({len(test)} rows)")
        print(result.table.round(4).to_string())
    return 0


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="datasets save_to_disk directory, CSV or Parquet file")
    p.add_argument("--split", help="split of a DatasetDict (default: train, else the first)")
    p.add_argument("--group-col", help=GROUP_COL_HELP)
    p.add_argument("--loss-col", help="column holding the loss (default: detected by alias)")
    p.add_argument(
        "--inputs",
        help="comma-separated input columns (default: dense_parameter_count,num_experts); "
        "the names an expression --form uses",
    )


def _add_sampler_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--draws", type=int, default=1000, help="kept draws per chain")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayeslaw",
        description="Hierarchical Bayesian scaling laws: fit, predict, report, evaluate.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    summary = sub.add_parser("summary", help="load a dataset, validate it and summarise it")
    _add_data_args(summary)
    summary.set_defaults(func=_cmd_summary)

    fit = sub.add_parser("fit", help="fit a law to a dataset and save the fit")
    _add_data_args(fit)
    fit.add_argument("--out", required=True, help="directory to save the fit to")
    fit.add_argument("--form", default="moe_additive", help=FORMS_HELP)
    fit.add_argument("--method", choices=["nuts", "map"], default="nuts")
    fit.add_argument("--pooling", choices=["partial", "none", "complete"], default="partial")
    fit.add_argument("--priors", default="default", help="default, flat, or a JSON file")
    fit.add_argument(
        "--likelihood",
        choices=list(LIKELIHOODS),
        default="normal",
        help="errors on the loss (normal, student_t) or on log(loss) (lognormal, student_t_log)",
    )
    fit.add_argument(
        "--noise",
        choices=list(NOISES),
        default="constant",
        help="one noise sd per group, or one that falls with the inputs (scaled)",
    )
    fit.add_argument(
        "--centered",
        default="auto",
        help="coordinates whose group offsets are centred (partial pooling): auto (one group "
        "column: none below 6 groups, else the level and first slope; crossed factors: as "
        "data), data (chosen by a no-pooling Laplace pilot fit), none, or names like "
        "L_ref,A_slope",
    )
    fit.add_argument(
        "--interaction",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="crossed factors: each cell gets an offset of its own besides its levels' effects "
        "(default: on the coordinates the centring's pilot finds the cells differ in)",
    )
    fit.add_argument(
        "--multiplicative",
        nargs="?",
        const=True,
        default=None,
        metavar="COORDS",
        help="crossed factors: a rank-one interaction of the first two factors, each level of "
        "the first scaling a pattern over the second's levels (AMMI), on the level L_ref and "
        "the slopes, or on the coordinates named (comma-separated, e.g. L_ref,A_slope)",
    )
    fit.add_argument("--draws", type=int, default=1000, help="kept draws per chain")
    fit.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    fit.add_argument("--chains", type=int, default=4)
    fit.add_argument("--sampler", default="nutpie", help="nutpie, pymc, numpyro or blackjax")
    fit.add_argument("--seed", type=int, default=0, help="random seed")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=_cmd_fit)

    predict = sub.add_parser("predict", help="predict with credible intervals from a saved fit")
    predict.add_argument("fit_dir", help="directory written by `bayeslaw fit`")
    predict.add_argument("--input", help="CSV or JSON rows of inputs (default: stdin)")
    predict.add_argument(
        "--group",
        help="group to predict (default: the input's group column, or its factor columns); "
        "a cell of crossed factors as 'gpt2 | flan'",
    )
    predict.add_argument("--ci", type=float, default=0.9, help="interval probability")
    predict.add_argument("--kind", choices=["mean", "observation"], default="mean")
    predict.add_argument("--format", choices=["table", "csv", "json"], default="table")
    predict.set_defaults(func=_cmd_predict)

    report = sub.add_parser(
        "report", help="write report.md, report.html and figures (diagnostics, plots) of a fit"
    )
    report.add_argument("fit_dir", help="directory written by `bayeslaw fit`")
    report.add_argument("--out", help="where to write (default: the fit directory)")
    report.set_defaults(func=_cmd_report)

    compare = sub.add_parser(
        "compare", help="compare law forms: PSIS-LOO and extrapolation to the largest size"
    )
    _add_data_args(compare)
    compare.add_argument(
        "--forms",
        default="auto",
        help="comma-separated forms (names or expressions over --inputs), or auto: the forms "
        "that apply to the data's inputs",
    )
    compare.add_argument("--pooling", choices=["partial", "none", "complete"], default="partial")
    _add_sampler_args(compare)
    compare.set_defaults(func=_cmd_compare)

    evaluate = sub.add_parser(
        "evaluate",
        help="SLDBench protocol: fit on train, score test (R^2, NMSE, NMAE, coverage)",
        description="Without --test and --test-split, the largest dense size of TRAIN is "
        "held out as the test set.",
    )
    evaluate.add_argument("--train", required=True, help="training data (or both splits)")
    evaluate.add_argument("--test", help="test data (default: see --test-split)")
    evaluate.add_argument("--train-split", help="split of TRAIN to train on")
    evaluate.add_argument("--test-split", help="split to test on (of --test, else of TRAIN)")
    evaluate.add_argument(
        "--forms", default="auto", help="comma-separated forms, or auto (the applicable ones)"
    )
    evaluate.add_argument("--group-col", help=GROUP_COL_HELP)
    evaluate.add_argument("--loss-col", help="column holding the loss (default: by alias)")
    evaluate.add_argument("--inputs", help="comma-separated input columns (default: the MoE's)")
    evaluate.add_argument("--poolings", default="partial", help="comma-separated poolings")
    _add_sampler_args(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    demo = sub.add_parser("demo", help="fit the built-in SYNTHETIC demo data and write a report")
    demo.add_argument("--out", default="bayeslaw-demo", help="output directory")
    demo.add_argument("--groups", type=int, default=3, help="number of synthetic groups")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    demo.add_argument("--quick", action="store_true", help="short chains (a smoke run)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input)."""
    args = _parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ColumnError as err:
        print(f"bayeslaw: error: {err} {_column_hint(err)}", file=sys.stderr)
        return 2
    except BayeslawError as err:
        print(f"bayeslaw: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
