"""Known mistakes, as data: each computes its wrong answer and carries a hint that teaches.

When a test's comparison fails, ``diagnose`` recomputes every known-wrong variant of
that function from the same inputs, here in the trusted process, and names the one
the student's output matches. Variants are built from the reference's own outputs
(negate it, drop a factor, skip a step), so this module holds no solution code.

The student bundle has no reference. For the inputs of its public tests, the release
wrote a digest of every variant's output there (``fingerprints.json`` beside this module,
made by :mod:`grader.course.fingerprints`; keys and digests: :mod:`grader.grading.digests`),
and ``diagnose`` looks them up instead of recomputing. For inputs the release never saw,
only the variants that need nothing of the reference are tried.

A hint explains the mistake and where to look; it never hands over the code.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.grading import digests

FINGERPRINTS = Path(__file__).with_name("fingerprints.json")


@dataclass(frozen=True)
class Misconception:
    id: str
    exercise: str
    function: str
    hint: str
    # Each variant takes (ref, inputs) and returns the wrong output, shaped like the
    # function's real output; None stands for a part it does not predict (a cache).
    variants: tuple[Callable, ...] = ()
    # Or a test of the output itself: (inputs, output, warnings) -> bool.
    when: Callable | None = None


class _Reference:
    """The reference functions, imported on first use; absent in the student bundle."""

    def __getattr__(self, name: str):
        from grader.contract import exercise_of

        module = importlib.import_module(f"solutions.{exercise_of(name).name}")
        return getattr(module, name)


REF = _Reference()

# The release fingerprints every input a test may diagnose, failing or not: it listens here.
_listeners: list[Callable[[str, dict], None]] = []


def consulted(function: str, inputs: dict) -> None:
    """A test is about to check ``function``'s output for these inputs (expect.diagnosing)."""
    for listener in _listeners:
        listener(function, inputs)


@contextlib.contextmanager
def listening(listener: Callable[[str, dict], None]) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _sigma(z):
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


# -- training variants: the reference's steps, run with one thing changed ------------


def _default(name: str, parameter: str):
    return inspect.signature(getattr(REF, name)).parameters[parameter].default


def _train_variant(ref, inputs, *, lr_sign=-1.0, lr_applied=True, record_after=False):
    params = {k: np.array(v, dtype=np.float64) for k, v in inputs["params"].items()}
    X, y = inputs["X"], inputs["y"]
    lr = inputs.get("lr", _default("train", "lr"))
    epochs = inputs.get("epochs", _default("train", "epochs"))
    step = lr if lr_applied else 1.0
    losses = []
    for _ in range(epochs):
        y_pred, cache = ref.forward(params, X)
        if not record_after:
            losses.append(float(np.mean((y - y_pred) ** 2)))
        grads = ref.backward(params, cache, y)
        params = {k: params[k] + lr_sign * step * grads[k] for k in params}
        if record_after:
            losses.append(float(np.mean((y - ref.forward(params, X)[0]) ** 2)))
    return params, np.array(losses)


def _dense_variant(ref, inputs, *, activation=True, sum_bias=True, transpose_dw=False,
                   dx_from_dh=False):
    x, W, b, dh = inputs["x"], inputs["W"], inputs["b"], inputs["dh"]
    h, _ = ref.dense_forward(x, W, b)
    dz = dh * h * (1 - h) if activation else dh
    dW = x.T @ dz
    if transpose_dw:
        dW = dW.T
    db = dz.sum(axis=0) if sum_bias else dz
    dx = (dh if dx_from_dh else dz) @ W.T
    return dx, dW, db


def _graph_backward_variant(ref, inputs, *, drop=None, cos_sign=-1.0, cos_at="a", sin_at="d"):
    x = inputs["x"]
    nodes = ref.graph_forward(x)
    nodes["x"] = x
    dd = cos_sign * np.sin(nodes[sin_at])
    db = dc = dd
    da = db * np.cos(nodes[cos_at])
    via_a, via_c = da * 2 * x, dc * 6 * x
    dx = via_c if drop == "a" else via_a if drop == "c" else via_a + via_c
    return {"d": dd, "b": db, "c": dc, "a": da, "x": dx}


def _saturates(logits) -> bool:
    """Whether sigma rounds some logit to exactly 0 or 1 in float64 (|z| > 37)."""
    return bool(np.max(np.abs(np.asarray(logits, dtype=np.float64)), initial=0.0) > 37.0)


CATALOGUE: tuple[Misconception, ...] = (
    # -- sigmoid -------------------------------------------------------------------
    Misconception(
        "sigmoid-exponent-sign", "sigmoid", "sigmoid",
        "Your sigmoid is mirrored: it returns sigma(-z). The exponent needs a minus sign, "
        "sigma(z) = 1 / (1 + e^(-z)), so that large positive z gives values near 1. "
        "Two of the course's source notes print this formula with the sign wrong.",
        variants=(lambda ref, i: _sigma(-np.asarray(i["z"], dtype=float)),)),
    Misconception(
        "sigmoid-overflow", "sigmoid", "sigmoid",
        "For large negative z, e^(-z) overflows to inf. The value still comes out right, "
        "but numpy warns, and the contract asks for no warning up to |z| = 1e4. Rewrite "
        "sigma so that exp only ever sees a number <= 0. np.where(cond, a, b) computes "
        "both a and b for every element before choosing, so the exponent must already "
        "be safe in both branches.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
    Misconception(
        "sigmoid-grad-missing-factor", "sigmoid", "sigmoid_grad",
        "Your derivative is sigma(z) alone. Differentiate 1 / (1 + e^(-z)) once more: "
        "the result is sigma(z) times another factor that goes to 0 as z grows.",
        variants=(lambda ref, i: _sigma(i["z"]),)),
    Misconception(
        "sigmoid-grad-wrong-sign", "sigmoid", "sigmoid_grad",
        "Your derivative is negative, but the sigmoid only ever rises. Check the sign "
        "that the inner derivative of e^(-z) brings, and the one from 1 / u.",
        variants=(lambda ref, i: -ref.sigmoid_grad(i["z"]),)),
    Misconception(
        "sigmoid-grad-of-z", "sigmoid", "sigmoid_grad",
        "You applied s (1 - s) to z itself. The formula is in terms of the sigmoid's "
        "output: compute s = sigma(z) first, then s (1 - s).",
        variants=(lambda ref, i: np.asarray(i["z"], dtype=float)
                  * (1 - np.asarray(i["z"], dtype=float)),)),
    # -- mse ----------------------------------------------------------------------
    Misconception(
        "mse-grad-missing-2", "mse", "mse_grad",
        "Your gradient is half of what it should be. The derivative of a square u^2 "
        "is 2u: keep the factor 2 that the power rule brings down.",
        variants=(lambda ref, i: ref.mse_grad(i["y_true"], i["y_pred"]) / 2,)),
    Misconception(
        "mse-grad-sum-not-mean", "mse", "mse_grad",
        "Your gradient is n times too large: it is the gradient of the sum of squared "
        "errors. The loss is a mean, so every element's gradient carries a 1/n, with n "
        "the number of elements.",
        variants=(lambda ref, i: ref.mse_grad(i["y_true"], i["y_pred"]) * np.size(i["y_pred"]),)),
    Misconception(
        "mse-grad-sign", "mse", "mse_grad",
        "Your gradient points the wrong way. Differentiate (y_true - y_pred)^2 with "
        "respect to y_pred: the inner derivative of (y_true - y_pred) is -1.",
        variants=(lambda ref, i: -ref.mse_grad(i["y_true"], i["y_pred"]),)),
    # -- dense --------------------------------------------------------------------
    Misconception(
        "dense-missing-activation-derivative", "dense", "dense_backward",
        "dx, dW and db all skip the sigmoid. h = sigma(Z) with Z = x W + b: on its way "
        "back to W, b and x, the upstream dh passes through the sigmoid first. Which "
        "derivative is that, evaluated where, and what does the cache already hold of it?",
        variants=(lambda ref, i: _dense_variant(ref, i, activation=False),)),
    Misconception(
        "dense-bias-not-summed", "dense", "dense_backward",
        "db has one row per sample. The bias is shared by the whole batch, so its "
        "gradient adds up the contributions of every row: db has shape (M,).",
        variants=(lambda ref, i: _dense_variant(ref, i, sum_bias=False),)),
    Misconception(
        "dense-dW-transposed", "dense", "dense_backward",
        "dW is transposed. It must have the shape of W, (D, M): pair the inputs x "
        "(N, D) with dZ (N, M) so that the batch dimension N is the one summed away.",
        variants=(lambda ref, i: _dense_variant(ref, i, transpose_dw=True),)),
    Misconception(
        "dense-dx-from-dh", "dense", "dense_backward",
        "dW and db are right but dx is not: it was computed from dh. The input x "
        "reaches h through the sigmoid too, so dx comes from dZ, the gradient after "
        "the activation's derivative.",
        variants=(lambda ref, i: _dense_variant(ref, i, dx_from_dh=True),)),
    # -- cross_entropy -------------------------------------------------------------
    Misconception(
        "bce-grad-sign", "cross_entropy", "bce_grad",
        "Your gradient has the wrong sign. A logit that is too large for a label 0 "
        "should get a positive gradient, so that gradient descent lowers it.",
        variants=(lambda ref, i: -ref.bce_grad(i["y_true"], i["logits"]),)),
    Misconception(
        "bce-grad-missing-mean", "cross_entropy", "bce_grad",
        "Your gradient is N times too large. The loss is the mean over the batch, so "
        "each sample's gradient is divided by N.",
        variants=(lambda ref, i: ref.bce_grad(i["y_true"], i["logits"]) * len(i["logits"]),)),
    Misconception(
        "bce-grad-mse-style", "cross_entropy", "bce_grad",
        "Your gradient carries an extra sigma (1 - sigma), as it would for a squared "
        "error. With cross-entropy that factor cancels against the 1/sigma and "
        "1/(1 - sigma) of the logs' derivatives: work through the algebra once.",
        variants=(lambda ref, i: ref.bce_grad(i["y_true"], i["logits"])
                  * _sigma(i["logits"]) * (1 - _sigma(i["logits"])),
                  lambda ref, i: ref.bce_grad(i["y_true"], i["logits"]) * len(i["logits"])
                  * _sigma(i["logits"]) * (1 - _sigma(i["logits"])))),
    Misconception(
        "bce-loss-log-of-zero", "cross_entropy", "bce_loss",
        "The loss is inf or nan for large logits: sigma(z) rounds to exactly 0 or 1 and "
        "log(0) is -inf. Write the loss in terms of z directly (log sigma(z) = "
        "-log(1 + e^(-z))) and evaluate log(1 + e^t) without overflow.",
        when=lambda i, out, warnings: (isinstance(out, float) and not np.isfinite(out)
                                       and _saturates(i["logits"]))),
    # -- chain_rule ----------------------------------------------------------------
    Misconception(
        "chain-fanout-dropped", "chain_rule", "graph_backward",
        "dJ/dx follows only one path. x feeds both a = x^2 and c = 3x^2; when a "
        "variable fans out, the gradients flowing back along every path are added.",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, drop="a"),
                  lambda ref, i: _graph_backward_variant(ref, i, drop="c"))),
    Misconception(
        "chain-cos-derivative-sign", "chain_rule", "graph_backward",
        "Every gradient has the wrong sign, starting at d. The derivative of cos is "
        "-sin: dJ/dd = -sin(d).",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, cos_sign=1.0),)),
    Misconception(
        "chain-derivative-at-wrong-node", "chain_rule", "graph_backward",
        "A local derivative is evaluated at the wrong node. Each local derivative "
        "takes the input of its own operation: db/da = cos(a), not cos of x or of b; "
        "dJ/dd = -sin(d), not -sin(J).",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, cos_at="x"),
                  lambda ref, i: _graph_backward_variant(ref, i, cos_at="b"),
                  lambda ref, i: _graph_backward_variant(ref, i, sin_at="J"))),
    # -- training ------------------------------------------------------------------
    Misconception(
        "training-ascent", "training", "sgd_step",
        "Your update climbs the loss: it adds the gradient. The gradient points uphill; "
        "gradient descent steps against it.",
        variants=(lambda ref, i: ref.sgd_step(i["params"], i["grads"], -i["lr"]),)),
    Misconception(
        "training-ascent", "training", "train",
        "Your training loop climbs the loss: the update adds the gradient. The gradient "
        "points uphill; gradient descent steps against it.",
        variants=(lambda ref, i: _train_variant(ref, i, lr_sign=+1.0),)),
    Misconception(
        "training-lr-not-applied", "training", "sgd_step",
        "Your update ignores the learning rate: each parameter moves by the whole "
        "gradient. Scale the step by lr.",
        variants=(lambda ref, i: ref.sgd_step(i["params"], i["grads"], 1.0),)),
    Misconception(
        "training-lr-not-applied", "training", "train",
        "Your training loop ignores the learning rate: each step moves by the whole "
        "gradient. Scale the step by lr.",
        variants=(lambda ref, i: _train_variant(ref, i, lr_applied=False),)),
    Misconception(
        "training-loss-after-step", "training", "train",
        "Your losses are shifted by one step: losses[k] must be the loss before step k, "
        "computed from the same forward pass that the gradients come from.",
        variants=(lambda ref, i: _train_variant(ref, i, record_after=True),)),
    Misconception(
        "training-output-shape-n1", "training", "forward",
        "y_pred has shape (N, 1). Against y of shape (N,), y - y_pred broadcasts to an "
        "(N, N) matrix and the loss and gradients quietly go wrong. Return shape (N,).",
        variants=(lambda ref, i: (ref.forward(i["params"], i["X"])[0][:, None], None),)),
    Misconception(
        "training-grad-of-sum", "training", "backward",
        "Every gradient is N times too large: it is the gradient of the sum of squared "
        "errors. The loss is the mean over the batch: dL/dy_pred carries a 1/N.",
        variants=(lambda ref, i: {k: v * len(i["y_true"]) for k, v in ref.backward(
            i["params"], ref.forward(i["params"], i["X"])[1], i["y_true"]).items()},)),
)


def _close(got, wrong, rtol=1e-6, atol=1e-9) -> bool:
    """Whether ``got`` is ``wrong`` in structure, type, dtype, shape and value.

    Strict on form: a float32 array, a list or a 0-d array where the variant predicts
    a float64 array of some shape is not that variant, whatever its values, since its
    failure is about the form and a named mistake would send the student the wrong way.
    None in ``wrong`` stands for a part the variant does not predict (a cache).
    """
    if wrong is None:
        return True
    if isinstance(wrong, dict):
        return (type(got) is dict and got.keys() >= wrong.keys()
                and all(_close(got[k], v) for k, v in wrong.items()))
    if isinstance(wrong, (tuple, list)):
        return (type(got) in (tuple, list) and len(got) == len(wrong)
                and all(_close(g, w) for g, w in zip(got, wrong, strict=True)))
    if isinstance(wrong, np.ndarray) and wrong.ndim > 0:
        if type(got) is not np.ndarray or got.dtype != np.float64 or got.shape != wrong.shape:
            return False
    elif not (type(got) in (float, np.float64)
              or (type(got) is np.ndarray and got.shape == () and got.dtype == np.float64)):
        return False  # the variant predicts one number: a float (or a 0-d float64 array)
    wrong_array = np.asarray(wrong, dtype=np.float64)
    if not np.isfinite(wrong_array).all():
        return False
    return bool(np.all(np.abs(got - wrong_array) <= atol + rtol * np.abs(wrong_array)))


def _right(function: str, inputs: dict):
    """The reference's answer for these inputs, shaped as the variants are."""
    special = {
        "dense_backward": lambda: _dense_variant(REF, inputs),
        "train": lambda: _train_variant(REF, inputs),
        "forward": lambda: (REF.forward(inputs["params"], inputs["X"])[0], None),
        "backward": lambda: REF.backward(inputs["params"],
                                         REF.forward(inputs["params"], inputs["X"])[1],
                                         inputs["y_true"]),
    }
    if function in special:
        return special[function]()
    from grader.contract import exercise_of

    params = exercise_of(function).function(function).params
    return getattr(REF, function)(**{name: inputs[name] for name in params if name in inputs})


def candidates(function: str, inputs: dict) -> list[tuple[Misconception, object]]:
    """(entry, wrong output) of each variant these inputs tell apart from the right answer
    (at N = 1, "N times too large" is the right answer)."""
    try:
        right = _right(function, inputs)
    except Exception:  # the reference is absent (the student bundle), or the inputs do not fit
        right = None
    found = []
    for entry in CATALOGUE:
        if entry.function != function:
            continue
        for variant in entry.variants:
            try:
                wrong = variant(REF, inputs)
                if right is None or not _close(wrong, right):
                    found.append((entry, wrong))
            except Exception:  # the reference is absent, or the inputs do not fit
                continue
    return found


@functools.cache
def _fingerprints() -> dict:
    """The release's digests by key of their inputs: only a student bundle has them."""
    return digests.read_table(FINGERPRINTS)


def diagnose(function: str, inputs: dict, output,
             warnings: Sequence[str] = ()) -> Misconception | None:
    """The known mistake of ``function`` that explains ``output``, if exactly one does.

    A variant names a mistake only where these inputs tell it apart from the right
    answer, and only when no other mistake explains the same output equally well.
    """
    found: dict[str, Misconception] = {}
    for entry in CATALOGUE:
        if entry.function == function and entry.when is not None:
            try:
                if entry.when(inputs, output, list(warnings)):
                    found.setdefault(entry.id, entry)
            except Exception:
                pass
    consult = digests.key(function, inputs) if _fingerprints() else None
    fingerprints = _fingerprints().get(consult or "")
    if consult is not None and isinstance(fingerprints, list):
        entries = {e.id: e for e in CATALOGUE if e.function == function}
        for fingerprint in fingerprints:
            if digests.matches(output, consult, fingerprint) and fingerprint["id"] in entries:
                found.setdefault(fingerprint["id"], entries[fingerprint["id"]])
    else:
        for entry, wrong in candidates(function, inputs):
            try:
                if _close(output, wrong):
                    found.setdefault(entry.id, entry)
            except Exception:  # an output that cannot be compared at all
                continue
    return next(iter(found.values())) if len(found) == 1 else None
