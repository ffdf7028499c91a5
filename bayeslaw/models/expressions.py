r"""Law forms written as expressions: ``law_form("L_inf + B / (D_l + D**beta)", inputs=["D"])``.

The expression is parsed with :mod:`ast` against a whitelist and never evaluated as Python:
numbers, names, ``+ - * / **``, unary minus and the functions ``log``, ``exp``, ``sqrt`` and
``tanh`` (:mod:`bayeslaw.models.ops`: the same tree runs on numpy for prediction and on
pytensor for the model). Names listed in ``inputs`` are inputs; every other name is a
parameter, and writing a name twice ties it (``A / N**a + B / D**a`` shares one exponent).

**Parameter roles** (what constrains a parameter and sets its default prior), by convention
unless declared:

========================  ========================================================  =========
role                      convention                                                link
========================  ========================================================  =========
``floor``                 the first of :data:`FLOOR_NAMES` that is a term of the    identity
                          top-level sum (the loss the law tends to)
``exponent`` (positive)   a Greek-letter name (:data:`GREEK`, optionally with a     log
                          suffix: ``alpha_N``), or a name used only in exponents
``coefficient``           every other name (positive)                                log
(positive)
``real``                  declared only (``real=[...]``): any sign                  identity
========================  ========================================================  =========

Declare ``positive=[...]`` (a positive coefficient), ``real=[...]`` or ``floor=name`` to
override a convention, and ``bounds={name: (lower, upper)}`` to keep a parameter in an
interval (logistic link); :func:`describe` says which roles and default priors were chosen
(``bayeslaw fit`` prints it for an expression). The form's name is a canonical text that
:func:`bayeslaw.models.registry.get_form` parses back
(``"<label>: <expression> | inputs=a,b | real=c | bounds=beta:0.0:2.0"``), so saved fits,
``law()`` and the CLI rebuild it from the name alone.

Inputs reach the expression divided by a reference scale (a power of ten near their
geometric mean), as for every form: parameters are in those scaled units, and reports say
so (a generic expression has no closed-form conversion to raw units).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayeslaw.errors import FormError
from bayeslaw.models import ops
from bayeslaw.models.forms import LawForm, Parameter, Slope, power_term_converter

__all__ = [
    "FLOOR_NAMES",
    "FUNCTIONS",
    "GREEK",
    "describe",
    "law_form",
    "parse_spec",
]

#: The default prior of each role, in words (see :mod:`bayeslaw.models.priors`).
ROLE_PRIORS = {
    "floor": "the level at the reference point ~ Normal(mean(y), sd(y)); floor above 0",
    "exponent": "log(exponent) ~ Normal(log 0.3, 0.75): 95% in about (0.07, 1.3)",
    "coefficient": "log(coefficient) ~ Normal(log sd(y), 2)",
    "slope": "log(slope) ~ Normal(log(sd(y) / sd(log x)), 1)",
    "real": "~ Normal(0, 1)",
    "interaction": "~ Normal(0, 0.1)",
    "bounded": "logit of its place in the interval ~ Normal(0, 1.5), near uniform",
}

#: Functions an expression may call (one argument each).
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "log": ops.log,
    "exp": ops.exp,
    "sqrt": ops.sqrt,
    "tanh": ops.tanh,
}
#: Names taken for the loss floor when they are a term of the top-level sum.
FLOOR_NAMES = ("L_inf", "Linf", "L0", "L_0", "E", "floor", "irreducible")
#: Names read as exponents (alone or with a suffix after ``_``).
GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "mu",
    "nu", "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
)  # fmt: skip
_ALLOWED_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_SPEC = re.compile(r"^(?:(?P<label>[\w.\-]+):\s*)?(?P<expression>[^|]+?)\s*(?P<rest>\|.*)$")


def _bad(node: ast.AST, source: str, what: str) -> FormError:
    segment = ast.get_source_segment(source, node) or type(node).__name__
    return FormError(
        f"{what} {segment!r} (at column {getattr(node, 'col_offset', 0) + 1}) in {source!r}; "
        "an expression may hold numbers, names, + - * / **, unary minus and "
        f"{sorted(FUNCTIONS)}(...)"
    )


def _check(node: ast.AST, source: str) -> None:
    """Raise :class:`FormError` for anything outside the whitelist."""
    if isinstance(node, ast.Expression):
        _check(node.body, source)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ALLOWED_OPS:
            raise _bad(node, source, "the operator in")
        _check(node.left, source)
        _check(node.right, source)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise _bad(node, source, "the operator in")
        _check(node.operand, source)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _bad(node, source, "the constant")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _bad(node, source, "the function name used as a value")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise _bad(node, source, "the unknown function")
        if len(node.args) != 1 or node.keywords:
            raise _bad(node, source, "a call that does not take exactly one argument:")
        _check(node.args[0], source)
    else:
        raise _bad(node, source, "the construct")


def _parse(expression: str) -> ast.Expression:
    if not isinstance(expression, str) or not expression.strip():
        raise FormError(f"a law expression must be a non-empty string, got {expression!r}")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise FormError(
            f"the law expression {expression!r} does not parse: {err.msg} at column {err.offset}"
        ) from None
    _check(tree, expression.strip())
    return tree


def _evaluate(node: ast.AST, env: Mapping[str, Any]) -> Any:
    """The expression's value for the names in ``env`` (numpy arrays or pytensor tensors)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            return left / right
        return left**right
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # numbers only (checked)
    if isinstance(node, ast.Name):
        return env[node.id]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id](_evaluate(node.args[0], env))


def _names(tree: ast.AST) -> list[str]:
    """Names in order of first appearance (function names excluded)."""
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            seen.setdefault(node.id, None)
    ordered = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in seen),
        key=lambda n: (n.lineno, n.col_offset),
    )
    return list(dict.fromkeys(n.id for n in ordered))


def _top_terms(node: ast.AST) -> list[tuple[int, ast.AST]]:
    """The terms of the top-level sum, with their signs."""
    if isinstance(node, ast.Expression):
        return _top_terms(node.body)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right = _top_terms(node.right)
        if isinstance(node.op, ast.Sub):
            right = [(-sign, term) for sign, term in right]
        return _top_terms(node.left) + right
    return [(1, node)]


def _exponent_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Names found inside exponents (right of ``**``), and names found anywhere else."""
    inside: set[str] = set()
    outside: set[str] = set()

    def visit(node: ast.AST, in_exponent: bool) -> None:
        if isinstance(node, ast.Name):
            (inside if in_exponent else outside).add(node.id)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            visit(node.left, in_exponent)
            visit(node.right, True)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, in_exponent)

    visit(tree, False)
    return inside, outside


def _is_greek(name: str) -> bool:
    base = name.split("_", 1)[0]
    return base in GREEK or name in GREEK


@dataclass(frozen=True)
class _Roles:
    floor: str | None
    exponents: tuple[str, ...]
    coefficients: tuple[str, ...]
    real: tuple[str, ...]


def _roles(
    tree: ast.Expression,
    parameters: Sequence[str],
    *,
    positive: Sequence[str],
    real: Sequence[str],
    floor: str | None,
) -> _Roles:
    declared = [*positive, *real, *([floor] if floor else [])]
    unknown = sorted(set(declared) - set(parameters))
    if unknown:
        raise FormError(
            f"declared parameter(s) {unknown} do not appear in the expression; its "
            f"parameters are {list(parameters)}"
        )
    both = sorted(set(positive) & set(real))
    if both:
        raise FormError(f"parameter(s) {both} are declared both positive and real")
    if floor is None:
        additive = {t.id for sign, t in _top_terms(tree) if sign > 0 and isinstance(t, ast.Name)}
        floor = next((n for n in FLOOR_NAMES if n in additive and n in parameters), None)
        floor = None if floor in (*positive, *real) else floor
    elif floor not in {t.id for s, t in _top_terms(tree) if s > 0 and isinstance(t, ast.Name)}:
        raise FormError(
            f"floor={floor!r} must be a term of the expression's top-level sum (L = floor + ...)"
        )
    inside, outside = _exponent_names(tree)
    rest = [p for p in parameters if p != floor and p not in real and p not in positive]
    exponents = [p for p in rest if _is_greek(p) or (p in inside and p not in outside)]
    coefficients = [p for p in parameters if p not in exponents and p != floor and p not in real]
    return _Roles(floor, tuple(exponents), tuple(coefficients), tuple(real))


def _canonical(label: str | None, expression: str, inputs: Sequence[str],
               positive: Sequence[str], real: Sequence[str], floor: str | None,
               bounds: Mapping[str, tuple[float, float]]) -> str:  # fmt: skip
    parts = [f"{label}: {expression}" if label else expression, f"inputs={','.join(inputs)}"]
    if positive:
        parts.append(f"positive={','.join(positive)}")
    if real:
        parts.append(f"real={','.join(real)}")
    if floor:
        parts.append(f"floor={floor}")
    if bounds:
        parts.append("bounds=" + ",".join(f"{k}:{lo!r}:{hi!r}" for k, (lo, hi) in bounds.items()))
    return " | ".join(parts)


def law_form(
    expression: str,
    *,
    inputs: Sequence[str],
    name: str | None = None,
    positive: Sequence[str] = (),
    real: Sequence[str] = (),
    floor: str | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    reference: str = "user expression",
) -> LawForm:
    """A :class:`~bayeslaw.models.forms.LawForm` from an expression (see the module
    docstring for the grammar and the roles).

    Parameters
    ----------
    expression : str
        The mean loss, e.g. ``"L_inf + B / (D_l + D**beta)"``.
    inputs : sequence of str
        The names in ``expression`` that are data inputs; every other name is a parameter.
    name : str, optional
        A short label (letters, digits, ``_ . -``), kept in the form's name.
    positive, real : sequence of str
        Parameters declared positive (a coefficient, log link) or real (identity link).
    floor : str, optional
        The loss floor: a parameter that is a term of the top-level sum.
    bounds : mapping of str to (float, float), optional
        ``{name: (lower, upper)}``: the parameter lies in the interval (a logistic link;
        its prior is close to uniform there). The floor has its own range prior instead.

    Raises
    ------
    FormError
        For an expression that does not parse, a construct outside the whitelist, an unknown
        function, no parameter, an input that does not appear, or a bad declaration.

    Examples
    --------
    >>> form = law_form("L_inf + B / (D_l + D**beta)", inputs=["D"], name="rectified")
    >>> form.parameter_names
    ('L_inf', 'B', 'D_l', 'beta')
    """
    tree = _parse(expression)
    inputs = tuple(inputs)
    if not inputs or len(set(inputs)) != len(inputs):
        raise FormError(f"inputs must name one or more distinct inputs, got {list(inputs)}")
    names = _names(tree)
    missing = [i for i in inputs if i not in names]
    if missing:
        raise FormError(
            f"input(s) {missing} do not appear in {expression!r}; its names are {names}"
        )
    parameters = [n for n in names if n not in inputs]
    if not parameters:
        raise FormError(f"{expression!r} has no parameter: every name in it is an input")
    if name is not None and not re.fullmatch(r"[\w.\-]+", name):
        raise FormError(f"name={name!r} may hold letters, digits, '_', '.' and '-' only")
    roles = _roles(tree, parameters, positive=positive, real=real, floor=floor)
    bounds = _bounds(bounds, parameters, roles.floor)
    text = ast.unparse(tree)
    # a bounded coefficient keeps its bounds in scaled units; a bounded exponent is not solved for
    terms = [t for t in _power_terms(tree, inputs, roles) if t.coefficient not in bounds]
    # a saturating term's constant changes with the input's units: no closed-form conversion
    # (its input then lies outside the pure terms, so they do not cover the inputs)
    pure = [t for t in terms if not t.saturating]
    covered = _inputs_only_in(tree, inputs, pure)
    return LawForm(
        name=_canonical(name, text, inputs, positive, real, floor, bounds),
        inputs=inputs,
        parameters=tuple(_parameter(p, roles, bounds.get(p)) for p in parameters),
        function=_function(tree),
        equation=f"loss = {text}" + ("" if covered else _SCALED_NOTE),
        reference=reference,
        raw_converter=(
            power_term_converter({t.coefficient: [(t.input, t.exponent)] for t in pure})
            if covered
            else _scaled_units
        ),
        slopes=tuple(
            Slope(f"{t.coefficient}_slope", t.coefficient, t.exponent, t.input)
            for t in terms
            if t.exponent not in bounds
        ),
    )


_SCALED_NOTE = "  (inputs divided by their reference scales)"


@dataclass(frozen=True)
class _PowerTerm:
    """A term ``C * x**(-e)`` (or ``C / x**e``) of the top-level sum, or a saturating one,
    ``C / (K + x**e)``, whose tail is the power law ``C x**(-e)``."""

    coefficient: str
    input: str
    exponent: str
    node: ast.AST
    saturating: bool = False


def _saturating_power(node: ast.AST, inputs: Sequence[str]) -> tuple[str, str] | None:
    """``(input, exponent)`` for ``K + x**e`` or ``x**e + K``, ``K`` a parameter or a number."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    for constant, power in ((node.left, node.right), (node.right, node.left)):
        match = _power_of(power, negative=False)
        named = isinstance(constant, ast.Name) and constant.id not in inputs
        if match and (named or isinstance(constant, ast.Constant)):
            return match
    return None


def _negated_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand.id if isinstance(node.operand, ast.Name) else None
    return None


def _power_of(node: ast.AST, negative: bool) -> tuple[str, str] | None:
    """``(input, exponent)`` for ``x ** (-e)`` (``negative``) or ``x ** e``."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)):
        return None
    if not isinstance(node.left, ast.Name):
        return None
    if negative:
        exponent = _negated_name(node.right)
    else:
        exponent = node.right.id if isinstance(node.right, ast.Name) else None
    return (node.left.id, exponent) if exponent else None


def _power_terms(tree: ast.Expression, inputs: Sequence[str], roles: _Roles) -> list[_PowerTerm]:
    """The top-level power terms whose coefficient appears nowhere else: the terms whose
    log-slope at the reference point is sampled in place of the coefficient (as for the
    built-in power laws, :mod:`bayeslaw.models.anchors`). A saturating term ``C / (K +
    x**e)`` (the rectified law's) gets its tail's slope ``C * e``: otherwise ``C`` and ``e``
    trade off along the ridge its tail draws, and on the fine-tuning curves with a family
    interaction NUTS hit its maximum tree depth on 1818 of 4000 transitions (0 with the
    slope; ``benchmarks/crossed_sampling.py``, README)."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            counts[node.id] = counts.get(node.id, 0) + 1
    found = []
    for sign, term in _top_terms(tree):
        if sign < 0 or not isinstance(term, ast.BinOp):
            continue
        pairs: list[tuple[ast.AST, ast.AST, bool]] = []
        if isinstance(term.op, ast.Mult):
            pairs = [(term.left, term.right, True), (term.right, term.left, True)]
        elif isinstance(term.op, ast.Div):
            pairs = [(term.left, term.right, False)]
        for coefficient, power, negative in pairs:
            match = _power_of(power, negative)
            saturating = match is None and not negative
            if saturating:
                match = _saturating_power(power, inputs)
            if not (isinstance(coefficient, ast.Name) and match):
                continue
            x, e = match
            c = coefficient.id
            if (x in inputs and c in roles.coefficients and counts[c] == 1
                    and e in roles.exponents and f"{c}_slope" not in counts):  # fmt: skip
                found.append(_PowerTerm(c, x, e, term, saturating))
                break
    return found


def _inputs_only_in(tree: ast.Expression, inputs: Sequence[str], terms: list[_PowerTerm]) -> bool:
    """Whether every input appears only inside the power terms (then every parameter but
    the coefficients keeps its meaning in raw units, and those convert in closed form)."""
    total = sum(isinstance(n, ast.Name) and n.id in inputs for n in ast.walk(tree))
    in_terms = sum(
        isinstance(n, ast.Name) and n.id in inputs for t in terms for n in ast.walk(t.node)
    )
    return bool(terms) and total == in_terms


def _parameter(name: str, roles: _Roles, bounds: tuple[float, float] | None) -> Parameter:
    if name == roles.floor:
        return Parameter(name, "floor", "loss floor (the top-level constant term)")
    within = "" if bounds is None else f", in ({bounds[0]:g}, {bounds[1]:g})"
    if name in roles.exponents:
        return Parameter(name, "exponent", f"positive exponent{within}", bounds)
    if name in roles.real:
        return Parameter(name, "real", f"real parameter{within or ' (any sign)'}", bounds)
    return Parameter(name, "coefficient", f"positive coefficient{within}", bounds)


def _bounds(
    bounds: Mapping[str, Any] | None, parameters: Sequence[str], floor: str | None
) -> dict[str, tuple[float, float]]:
    """Checked ``{name: (lower, upper)}`` declarations."""
    if bounds is None:
        return {}
    if not isinstance(bounds, Mapping):
        raise FormError(f"bounds must map parameter names to (lower, upper), got {bounds!r}")
    checked = {}
    for name, value in bounds.items():
        if name not in parameters:
            raise FormError(
                f"bounds names {name!r}, which is not a parameter of the expression; its "
                f"parameters are {list(parameters)}"
            )
        if name == floor:
            raise FormError(
                f"{name!r} is the loss floor, which has its own range prior: pass "
                f"priors={{{name!r}: (lower, upper)}} to fit instead of bounds"
            )
        try:
            lower, upper = (float(v) for v in value)
        except (TypeError, ValueError):
            raise FormError(f"bounds[{name!r}] must be (lower, upper), got {value!r}") from None
        if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
            raise FormError(f"bounds[{name!r}] needs finite lower < upper, got {value!r}")
        checked[name] = (lower, upper)
    return checked


def _function(tree: ast.Expression) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Any]:
    def function(x: Mapping[str, Any], theta: Mapping[str, Any]) -> Any:
        return _evaluate(tree, {**theta, **x})

    return function


def _scaled_units(
    theta: Mapping[str, np.ndarray], scales: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """A generic expression has no closed-form raw-unit conversion: parameters stay in the
    units of scaled inputs (said in the equation)."""
    return {k: np.asarray(v, dtype=float) for k, v in theta.items()}


def describe(form: LawForm) -> str:
    """The form's parameters, the role each was given and its default prior, one per line
    (what ``bayeslaw fit`` prints for an expression, so conventions never act unseen)."""
    lines = [f"{form.equation}", "parameters (role: default prior; override by name):"]
    slopes = {s.coefficient: s for s in form.slopes if s.solves == "coefficient"}
    for p in form.parameters:
        if p.bounds is not None:
            lower, upper = p.bounds
            prior = f"in ({lower:g}, {upper:g}): {ROLE_PRIORS['bounded']}"
        elif p.name in slopes:
            slope = slopes[p.name]
            prior = (
                f"sampled as {slope.name} = {p.name} * {slope.exponent} (log-slope along "
                f"{slope.input} at the reference point), {ROLE_PRIORS['slope']}"
            )
        else:
            prior = ROLE_PRIORS[p.role]
        lines.append(f"  {p.name}: {p.role}, {prior}")
    if form.floor is None:
        lines.append("  (no floor: every parameter is sampled on its own scale)")
    return "\n".join(lines)


def parse_spec(spec: str) -> LawForm | None:
    """The form a canonical name describes (``"label: expr | inputs=a,b | real=c"``), or
    None when ``spec`` is not one."""
    match = _SPEC.match(spec.strip())
    if match is None:
        return None
    options: dict[str, tuple[str, ...]] = {}
    for part in match["rest"].split("|")[1:]:
        key, _, value = part.strip().partition("=")
        if key not in ("inputs", "positive", "real", "floor", "bounds") or key in options:
            raise FormError(f"{spec!r}: unknown or repeated part {part.strip()!r}")
        options[key] = tuple(v for v in value.split(",") if v)
    if "inputs" not in options:
        return None
    floor = options.get("floor", ())
    bounds: dict[str, tuple[float, float]] = {}
    for item in options.get("bounds", ()):
        name, *limits = item.split(":")
        try:
            lower, upper = (float(v) for v in limits)
        except ValueError:
            raise FormError(f"{spec!r}: bounds take name:lower:upper, got {item!r}") from None
        bounds[name] = (lower, upper)
    return law_form(
        match["expression"],
        inputs=options["inputs"],
        name=match["label"],
        positive=options.get("positive", ()),
        real=options.get("real", ()),
        floor=floor[0] if floor else None,
        bounds=bounds,
    )
