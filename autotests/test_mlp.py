"""Grading tests for the multi-layer perceptron exercise (40 points).

The numerical gradients differentiate the network of the contract written out here
(affine layers, tanh between them, a stable log-softmax cross-entropy on top), never the
student's own mlp_forward or softmax_ce_loss: a constant forward would make zero
gradients look right. The student's mlp.py imports the student's own activations.py and
softmax.py, so a mistake there fails tests here too, as the exercise text says.

The visible tests pin the worked numbers of the text (a [2, 3, 2] network on four
points), check every gradient against central differences on a deeper network with
layers of different widths, and pin the first steps of training, so that a missing tanh
derivative, an unsummed bias gradient, a transposed weight gradient, a climbing update
or a shifted loss are named before the deadline. The hidden ones compare with the
reference on networks of 1, 2 and 3 layers and batches of 1 and many, check that the
cache is the only memory and that inputs are left alone, and train the two moons with
the default lr and epochs to a training accuracy of at least 0.97, counted here.
"""

import inspect

import numpy as np
import pytest

from exercises.provided import two_moons
from grader.contract import Exercise, Function, LossCurve, Mistake
from grader.grading.compare import GradeFailure, as_number, describe
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_dict,
    expect_gradient,
    expect_inputs_unchanged,
    expect_tuple,
)
from grader.grading.gradcheck import check_gradient, vjp_objective
from grader.grading.pytest_plugin import reference_functions

EXERCISE = Exercise(
    "A multi-layer perceptron for K classes",
    assignment="networks", order=3,
    functions=(
        Function("affine_forward", ("x", "W", "b"), opaque_results=(1,)),
        Function("affine_backward", ("dout", "cache")),
        Function("init_mlp", ("layer_sizes", "seed")),
        Function("mlp_forward", ("params", "X"), opaque_results=(1,)),
        Function("mlp_backward", ("params", "cache", "y")),
        Function("train_mlp", ("params", "X", "y", "lr", "epochs")),
        Function("predict", ("params", "X")),
    ),
    # grader check --plot: the student's train_mlp, with their own defaults.
    loss_curve=LossCurve(
        "train_mlp", lambda: (recipe([2, 16, 16, 2], 0), *two_moons(200, noise=0.1, seed=0)),
        "train_mlp(init_mlp([2, 16, 16, 2], seed=0), *two_moons(200, noise=0.1, seed=0))"))


# -- the network of the contract, written out here: what the tests trust ----------------


def network(params, X):
    """The logits of the contract's network: affine and tanh, affine alone at the top."""
    n_layers = len(params) // 2
    a = X
    for layer in range(1, n_layers):
        a = np.tanh(a @ params[f"W{layer}"] + params[f"b{layer}"])
    return a @ params[f"W{n_layers}"] + params[f"b{n_layers}"]


def cross_entropy(y, logits):
    """The mean softmax cross-entropy, through a log-softmax that never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(y)), y]))


def affine_objectives(x, W, b):
    """x W + b as a function of each of its inputs in turn, the others held: (f, at)."""
    return {"dx": (lambda v: v @ W + b, x), "dW": (lambda v: x @ v + b, W),
            "db": (lambda v: x @ W + v, b)}


def recipe(layer_sizes, seed):
    """The initialisation the contract spells out, step by step."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(1.0 / n_in)
        params[f"b{layer}"] = np.zeros(n_out)
    return params


def accuracy(params, X, y):
    return float(np.mean(np.argmax(network(params, X), axis=1) == y))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _init_variant(layer_sizes, seed, *, scale="fan-in", transposed=False, one_rng=True):
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
        if not one_rng:
            rng = np.random.default_rng(seed)
        draw = (rng.standard_normal((n_out, n_in)).T if transposed
                else rng.standard_normal((n_in, n_out)))
        factor = {"fan-in": np.sqrt(1.0 / n_in), "none": 1.0, "variance": 1.0 / n_in,
                  "fan-out": np.sqrt(1.0 / n_out), "he": np.sqrt(2.0 / n_in)}[scale]
        params[f"W{layer}"] = draw * factor
        params[f"b{layer}"] = np.zeros(n_out)
    return params


def _forward_variant(inputs, *, hidden=np.tanh, top=None):
    params, X = inputs["params"], inputs["X"]
    n_layers = len(params) // 2
    a = X
    for layer in range(1, n_layers):
        a = hidden(a @ params[f"W{layer}"] + params[f"b{layer}"])
    logits = a @ params[f"W{n_layers}"] + params[f"b{n_layers}"]
    return (logits if top is None else top(logits)), None


def _ce_grad(y, logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0
    return probs / len(y)


def _backward_variant(inputs, *, tanh_derivative=True, sum_bias=True, transpose_dw=False,
                      scale=1.0):
    params, X, y = inputs["params"], inputs["X"], inputs["y"]
    n_layers = len(params) // 2
    activations = [X]
    for layer in range(1, n_layers):
        activations.append(np.tanh(activations[-1] @ params[f"W{layer}"] + params[f"b{layer}"]))
    logits = activations[-1] @ params[f"W{n_layers}"] + params[f"b{n_layers}"]
    dz = _ce_grad(y, logits) * scale
    grads = {}
    for layer in range(n_layers, 0, -1):
        below = activations[layer - 1]
        grads[f"W{layer}"] = (below.T @ dz).T if transpose_dw else below.T @ dz
        grads[f"b{layer}"] = dz.sum(axis=0) if sum_bias else dz
        if layer > 1:
            da = dz @ params[f"W{layer}"].T
            dz = da * (1.0 - below ** 2) if tanh_derivative else da
    return cross_entropy(y, logits), grads


def _affine_variant(ref, inputs, *, sum_bias=True, transpose_dw=False, average=False):
    x, W, dout = inputs["x"], inputs["W"], inputs["dout"]
    dW = x.T @ dout
    db = dout.sum(axis=0) if sum_bias else dout
    if average:
        dW, db = dW / len(x), db / len(x)
    return dout @ W.T, dW.T if transpose_dw else dW, db


def _train_default(ref, parameter):
    return inspect.signature(ref.train_mlp).parameters[parameter].default


def _train_variant(ref, inputs, *, sign=-1.0, lr_applied=True, record_after=False):
    params = {k: np.array(v, dtype=np.float64) for k, v in inputs["params"].items()}
    X, y = inputs["X"], inputs["y"]
    lr = inputs.get("lr", _train_default(ref, "lr"))
    epochs = inputs.get("epochs", _train_default(ref, "epochs"))
    step = lr if lr_applied else 1.0
    losses = []
    for _ in range(epochs):
        loss, grads = _backward_variant({"params": params, "X": X, "y": y})
        if not record_after:
            losses.append(loss)
        params = {k: params[k] + sign * step * grads[k] for k in params}
        if record_after:
            losses.append(cross_entropy(y, network(params, X)))
    return params, np.array(losses)


def _n_classes(inputs):
    params = inputs["params"]
    return params[f"b{len(params) // 2}"].shape[0]


def _scores_for_labels(inputs, output):
    """An (N, K) float array whose row maxima are the right labels: scores, not labels."""
    logits = network(inputs["params"], inputs["X"])
    return (type(output) is np.ndarray and output.dtype.kind == "f"
            and output.shape == logits.shape
            and np.array_equal(np.argmax(output, axis=1), np.argmax(logits, axis=1)))


def _argmax_over_batch(inputs, output):
    """A (K,) integer array where (N,) was due: the argmax taken down the columns."""
    n, k = len(inputs["X"]), _n_classes(inputs)
    return (n != k and type(output) is np.ndarray and output.dtype.kind in "iu"
            and output.shape == (k,))


MISTAKES = (
    Mistake(
        "affine-db-not-summed", "affine_backward",
        "db has one row per sample. The bias is added to every row of the batch, so its "
        "gradient adds up the contributions of all N rows: db has the shape of b, (M,).",
        variants=(lambda ref, i: _affine_variant(ref, i, sum_bias=False),)),
    Mistake(
        "affine-dW-transposed", "affine_backward",
        "dW is transposed. It must have the shape of W, (D, M): pair the inputs x (N, D) "
        "with dout (N, M) so that the batch dimension N is the one summed away.",
        variants=(lambda ref, i: _affine_variant(ref, i, transpose_dw=True),)),
    Mistake(
        "affine-grads-averaged", "affine_backward",
        "dW and db are N times too small: they are averaged over the batch. dout already "
        "holds whatever averaging the loss does (the 1/N of a mean is in dL/dlogits); the "
        "layer only adds up each sample's contribution.",
        variants=(lambda ref, i: _affine_variant(ref, i, average=True),)),
    Mistake(
        "mlp-init-unscaled", "init_mlp",
        "Your weights are the raw standard normal draws. Each W{l} is multiplied by "
        "sqrt(1 / n_{l-1}), the square root of one over its number of inputs, so that the "
        "pre-activations stay of size about 1 and tanh does not saturate.",
        variants=(lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], scale="none"),)),
    Mistake(
        "mlp-init-wrong-scale", "init_mlp",
        "Your weights are scaled, but by the wrong factor. It is sqrt(1 / n_{l-1}): the "
        "square root (a standard deviation, not a variance) of one over the layer's number "
        "of INPUTS n_{l-1}, the rows of W{l}, with no factor 2.",
        variants=(lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], scale="variance"),
                  lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], scale="fan-out"),
                  lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], scale="he"))),
    Mistake(
        "mlp-init-transposed-draw", "init_mlp",
        "Your weights hold the right numbers in the wrong places: they were drawn as an "
        "(n_l, n_{l-1}) array and transposed. Draw with the shape (n_{l-1}, n_l) directly; "
        "the generator fills an array row by row, so the shape of the draw decides where "
        "each number lands.",
        variants=(lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], transposed=True),)),
    Mistake(
        "mlp-init-generator-per-layer", "init_mlp",
        "Your first layer is right, the later ones are not: each layer starts a new "
        "generator from the seed, so every layer begins with the same numbers. Make one "
        "generator before the loop and draw every layer from it, in order.",
        variants=(lambda ref, i: _init_variant(i["layer_sizes"], i["seed"], one_rng=False),)),
    Mistake(
        "mlp-tanh-on-logits", "mlp_forward",
        "Your logits all lie in (-1, 1): the last layer went through a tanh too. The last "
        "layer is affine only; its scores go to the softmax as they are.",
        variants=(lambda ref, i: _forward_variant(i, top=np.tanh),)),
    Mistake(
        "mlp-relu-hidden", "mlp_forward",
        "Your hidden layers use a ReLU. This network's hidden layers use tanh "
        "(tanh_forward of activations.py).",
        variants=(lambda ref, i: _forward_variant(i, hidden=lambda z: np.maximum(z, 0.0)),)),
    Mistake(
        "mlp-backward-skips-tanh", "mlp_backward",
        "The gradients of the last layer are right, those below it are not: the gradient "
        "going down skips the tanh. Between two affine layers, dL/dA of a hidden layer "
        "passes back through that layer's tanh (tanh_backward with its own cache) before "
        "it reaches the affine layer below. If mlp_backward does call it, check "
        "tanh_backward of your activations.py.",
        variants=(lambda ref, i: _backward_variant(i, tanh_derivative=False),)),
    Mistake(
        "affine-db-not-summed", "mlp_backward",
        "The bias gradients have one row per sample. Each bias is added to every row of "
        "the batch, so its gradient adds up all N rows (see affine_backward): grads['b1'] "
        "has the shape of b1.",
        variants=(lambda ref, i: _backward_variant(i, sum_bias=False),)),
    Mistake(
        "affine-dW-transposed", "mlp_backward",
        "The weight gradients are transposed. grads['W1'] must have the shape of W1, "
        "(n_0, n_1): pair the layer's input A (N, n_in) with dZ (N, n_out) so that the "
        "batch dimension N is summed away (see affine_backward).",
        variants=(lambda ref, i: _backward_variant(i, transpose_dw=True),)),
    Mistake(
        "mlp-grads-of-sum", "mlp_backward",
        "Every gradient is N times too large: it is the gradient of the summed loss, not "
        "of the mean. The 1/N belongs in dL/dlogits, once: check softmax_ce_grad (your "
        "softmax.py) and that nothing else multiplies or forgets it.",
        variants=(lambda ref, i: _backward_variant(i, scale=float(len(i["y"]))),)),
    Mistake(
        "mlp-train-ascent", "train_mlp",
        "Your training climbs the loss: each step moves the parameters along the gradient. "
        "The gradient points uphill; gradient descent steps against it. If your update "
        "does subtract lr times the gradient, the gradients themselves have the wrong sign: "
        "check mlp_backward and softmax_ce_grad of your softmax.py.",
        variants=(lambda ref, i: _train_variant(ref, i, sign=+1.0),)),
    Mistake(
        "mlp-train-lr-not-applied", "train_mlp",
        "Your training ignores the learning rate: each step moves every parameter by its "
        "whole gradient. Scale the step by lr.",
        variants=(lambda ref, i: _train_variant(ref, i, lr_applied=False),)),
    Mistake(
        "mlp-train-loss-after-step", "train_mlp",
        "Your losses are shifted by one step: losses[k] must be the loss before step k, "
        "the loss of the same forward pass that the step's gradients come from, so "
        "losses[0] is the loss of the given params.",
        variants=(lambda ref, i: _train_variant(ref, i, record_after=True),)),
    Mistake(
        "mlp-predict-scores", "predict",
        "predict returned the scores. It returns one label per sample, the index of the "
        "largest logit in that sample's row, as integers of shape (N,).",
        when=lambda i, out, warnings: _scores_for_labels(i, out)),
    Mistake(
        "mlp-predict-argmax-axis", "predict",
        "predict returned one number per class instead of one per sample: the argmax ran "
        "down the columns (over the batch). Take it along each row, over the K classes.",
        when=lambda i, out, warnings: _argmax_over_batch(i, out)),
)

ANSWERS = {
    "affine_backward": lambda ref, i: ref.affine_backward(
        i["dout"], ref.affine_forward(i["x"], i["W"], i["b"])[1]),
    "mlp_forward": lambda ref, i: (ref.mlp_forward(i["params"], i["X"])[0], None),
    "mlp_backward": lambda ref, i: ref.mlp_backward(
        i["params"], ref.mlp_forward(i["params"], i["X"])[1], i["y"]),
}


# -- the worked numbers of the text -------------------------------------------------------

DEFAULT_EPOCHS = 200  # train_mlp's default, with lr = 0.8
ACCURACY = 0.97  # the reference reaches 1.0 (loss 0.0068) on two_moons(200, 0.1, seed=0)

WORKED_X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]])
WORKED_Y = np.array([0, 1, 1, 0])
WORKED_PARAMS = {  # init_mlp([2, 3, 2], seed=0)
    "W1": np.array([[0.0889046919352223, -0.09341224466100138, 0.4528471989539067],
                    [0.07417558418617766, -0.37877544623616877, 0.2556863153700187]]),
    "b1": np.zeros(3),
    "W2": np.array([[0.7528647770791689, 0.546797449007038],
                    [-0.4063017278313919, -0.7305914269467706],
                    [-0.3598476787249596, 0.023859565300656006]]),
    "b2": np.zeros(2),
}
WORKED_LOGITS = np.array([[0.1878293206852573, 0.6504099731684602],
                          [0.11290048130687216, 0.034103849675577134],
                          [-0.11262420444321165, -0.31066947678274254],
                          [-0.051242423109051284, 0.2482965352099525]])
WORKED_LOSS = 0.8338565970518583
WORKED_DW1_01 = -0.1576501381198473
WORKED_DB2 = np.array([-0.029729228182215323, 0.029729228182215378])
# train_mlp(WORKED_PARAMS, WORKED_X, WORKED_Y, lr=0.5, epochs=6)[1]: five steps record the
# first five; the sixth is the loss of the params that five steps return.
SIX_LOSSES = np.array([0.8338565970518583, 0.6997271193465281, 0.6163515555797289,
                       0.5378928909059189, 0.4537115818295005, 0.3685179412357658])

AFFINE_X = np.array([[1.0, 2.0], [3.0, -1.0]])
AFFINE_W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
AFFINE_B = np.array([0.5, 0.0, -0.5])
AFFINE_DOUT = np.array([[1.0, -1.0, 2.0], [0.0, 1.0, -1.0]])


# -- calling the student, with the form of each result checked ---------------------------


def affine_forward(student, x, W, b):
    out, cache = expect_tuple(student.affine_forward(x, W, b), 2, "affine_forward",
                              "(out, cache)")
    return out, cache


def affine_backward(student, dout, cache, inputs, output=None):
    output = student.affine_backward(dout, cache) if output is None else output
    n, d, m = len(inputs["x"]), inputs["W"].shape[0], inputs["W"].shape[1]
    with diagnosing("affine_backward", inputs, output):
        grads = expect_tuple(output, 3, "affine_backward", "(dx, dW, db)")
        for name, grad, shape in zip(("dx", "dW", "db"), grads, [(n, d), (d, m), (m,)],
                                     strict=True):
            expect_array(grad, shape, f"{name} from affine_backward")
    return grads


def mlp_forward(student, params, X, output=None):
    output = student.mlp_forward(params, X) if output is None else output
    logits, cache = expect_tuple(output, 2, "mlp_forward", "(logits, cache)")
    n_classes = params[f"b{len(params) // 2}"].shape[0]
    with diagnosing("mlp_forward", {"params": params, "X": X}, (logits, None)):
        expect_array(logits, (len(X), n_classes), "logits from mlp_forward")
    return logits, cache


def mlp_backward(student, params, X, y, cache, output=None):
    output = student.mlp_backward(params, cache, y) if output is None else output
    inputs = {"params": params, "X": X, "y": y}
    with diagnosing("mlp_backward", inputs, output):
        loss, grads = expect_tuple(output, 2, "mlp_backward", "(loss, grads)")
        loss = as_number(loss, "the loss from mlp_backward", {"function": "mlp_backward"})
        expect_dict(grads, tuple(params), "the grads from mlp_backward")
        for key in params:
            expect_array(grads[key], params[key].shape, f"the gradient {key} from mlp_backward")
    return loss, grads


def check_trained(params, trained, losses, epochs):
    """The trained params as float64 arrays of the params' shapes, and the losses as a
    1-D float64 array of length epochs (a list of floats is fine)."""
    expect_dict(trained, tuple(params), "the params from train_mlp")
    for key in params:
        expect_array(trained[key], params[key].shape, f"{key} from train_mlp")
    if type(losses) in (list, tuple) and all(type(v) is float for v in losses):
        losses = np.array(losses, dtype=np.float64)
    if type(losses) is not np.ndarray or losses.ndim != 1 or losses.dtype != np.float64:
        raise GradeFailure("train_mlp should return losses as a 1-D float64 array (or a list "
                           f"of floats), got {describe(losses)}")
    expect_array(losses, (epochs,), f"the losses of {epochs} epochs")
    return trained, losses


def train(student, params, X, y, length, **kwargs):
    """train_mlp's reply, and its (params, losses) checked for form, length losses."""
    reply = student.call("train_mlp", params, X, y, return_inputs=True, **kwargs)
    trained, losses = expect_tuple(reply.value, 2, "train_mlp", "(params, losses)")
    return reply, *check_trained(params, trained, losses, length)


def labels_of(value, n, what):
    """predict's labels: an integer array of shape (N,) (int64 by the contract; any
    integer dtype is taken, since np.argmax gives int32 on some platforms)."""
    if type(value) is not np.ndarray or value.dtype.kind not in "iu":
        raise GradeFailure(f"{what} should be an int64 array of shape ({n},), "
                           f"got {describe(value)}")
    if value.shape != (n,):
        raise GradeFailure(f"{what} has shape {value.shape}, expected ({n},)",
                           {"expected_shape": [n], "received_shape": list(value.shape)})
    return value


def expect_labels(student, params, X, case, want=None):
    """predict's labels must be the classes of the largest logits, inputs untouched."""
    reply = student.call("predict", params, X, return_inputs=True)
    want = np.argmax(network(params, X), axis=1) if want is None else want
    with diagnosing("predict", {"params": params, "X": X}, reply.value):
        got = labels_of(reply.value, len(X), f"predict ({case})")
        wrong = np.flatnonzero(got != want)
        if wrong.size:
            k = int(wrong[0])
            raise GradeFailure(f"predict ({case}) is wrong for {wrong.size} of {len(X)} "
                               f"samples; at row {k}: expected {want[k]}, received {got[k]}",
                               {"function": "predict", "case": case, "index": [k]})
    expect_inputs_unchanged(reply, (params, X), "predict")


def random_params(rng, layer_sizes):
    """Weights of the init's scale, and biases that are not zero, so that b matters."""
    params = {}
    for layer in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
        params[f"W{layer}"] = rng.normal(scale=1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{layer}"] = rng.normal(scale=0.5, size=n_out)
    return params


def loss_curves(losses, params, X, y, points=100):
    """The student's losses, and the reference's where it is installed, for the report."""
    def thin(values):
        values = np.asarray(values, dtype=np.float64)
        keep = np.unique(np.linspace(0, len(values) - 1, min(points, len(values))).astype(int))
        return [[int(k), float(values[k])] for k in keep if np.isfinite(values[k])]

    curves = {"student": thin(losses)}
    reference = reference_functions()
    if reference is not None:  # absent in the student bundle
        curves["reference"] = thin(reference.train_mlp(params, X, y)[1])
    return curves


# -- visible tests ----------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.hint("out = x W + b: x is (N, D), W is (D, M), b is (M,) and is added to every "
                  "row; out is (N, M).")
def test_affine_forward_worked_example(student, rng):
    """Does affine_forward give [[5.5, 2, -1.5], [1.5, -1, -3.5]] as in the text, and x W + b
    for a square W?"""
    out, _ = affine_forward(student, AFFINE_X, AFFINE_W, AFFINE_B)
    expect(expect_array(out, (2, 3), "out from affine_forward"),
           np.array([[5.5, 2.0, -1.5], [1.5, -1.0, -3.5]]), "out", function="affine_forward",
           inputs={"x": AFFINE_X, "W": AFFINE_W, "b": AFFINE_B}, case="the worked example")
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    out, _ = affine_forward(student, x, W, b)
    expect(expect_array(out, (5, 4), "out for x (5, 4), W (4, 4)"), x @ W + b, "out",
           function="affine_forward", inputs={"x": x, "W": W, "b": b}, case="N=5, D=M=4")


@pytest.mark.points(4)
@pytest.mark.hint("Write one element, out[n, j] = sum_i x[n, i] W[i, j] + b[j], and take its "
                  "derivative with respect to one W[i, j], one b[j] and one x[n, i]. Each "
                  "gradient has the shape of what it is the gradient of.",
                  "W[i, j] and b[j] are shared by all N rows, so their gradients add up a "
                  "term from every row; x[n, i] feeds all M outputs, so its gradient adds up "
                  "a term from each of them. Nothing is averaged here: dout already holds "
                  "the loss's 1/N. For a square W the shapes cannot tell dW from its "
                  "transpose: get the indices right.")
def test_affine_backward_matches_numerical_gradient(student, rng):
    """Do dx, dW and db give the worked numbers, and agree with central differences of
    sum(dout * (x W + b)), square W and a batch of one included?"""
    inputs = {"x": AFFINE_X, "W": AFFINE_W, "b": AFFINE_B, "dout": AFFINE_DOUT}
    _, cache = affine_forward(student, AFFINE_X, AFFINE_W, AFFINE_B)
    grads = affine_backward(student, AFFINE_DOUT, cache, inputs)
    wants = (np.array([[-1.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 2.0, -1.0], [2.0, -3.0, 5.0]]),
             np.array([1.0, 0.0, 1.0]))
    for name, got, want in zip(("dx", "dW", "db"), grads, wants, strict=True):
        expect(got, want, name, function="affine_backward", inputs=inputs, output=grads,
               case="the worked example")
    for n, d, m in [(4, 3, 5), (3, 4, 4), (1, 2, 3)]:
        x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
        dout = rng.normal(size=(n, m))
        inputs = {"x": x, "W": W, "b": b, "dout": dout}
        _, cache = affine_forward(student, x, W, b)
        grads = affine_backward(student, dout, cache, inputs)
        for (name, (f, at)), analytic in zip(affine_objectives(x, W, b).items(), grads,
                                             strict=True):
            with diagnosing("affine_backward", inputs, grads):
                expect_gradient(check_gradient(analytic, vjp_objective(f, dout), at),
                                f"{name} from affine_backward (N={n}, D={d}, M={m})",
                                "sum(dout * (x W + b))")


@pytest.mark.points(2)
@pytest.mark.hint("One generator, np.random.default_rng(seed), made once; then layer by "
                  "layer, W{l} = standard_normal((n_{l-1}, n_l)) times sqrt(1 / n_{l-1}), "
                  "and b{l} zeros of shape (n_l,).")
def test_init_mlp_follows_the_recipe(student):
    """Does init_mlp give the text's [2, 3, 2] weights, and follow the recipe for 3 layers?"""
    cases = [([2, 3, 2], 0, WORKED_PARAMS), ([3, 5, 4, 2], 7, None)]
    for layer_sizes, seed, want in cases:
        want = recipe(layer_sizes, seed) if want is None else want
        inputs = {"layer_sizes": layer_sizes, "seed": seed}
        got = student.init_mlp(layer_sizes, seed)
        with diagnosing("init_mlp", inputs, got):
            expect_dict(got, tuple(want), "init_mlp")
            for key in want:
                expect_array(got[key], want[key].shape, f"{key} from init_mlp")
        for key in want:
            expect(got[key], want[key], key, function="init_mlp", inputs=inputs, output=got,
                   case=f"init_mlp({layer_sizes}, seed={seed})")


@pytest.mark.points(3)
@pytest.mark.hint("Each hidden layer is affine then tanh; the last layer is affine only, and "
                  "its output, the logits, is returned as it is, before any softmax.")
def test_mlp_forward_worked_example(student, rng):
    """Does mlp_forward give the text's logits, and the right ones for a 3-layer network?"""
    inputs = {"params": WORKED_PARAMS, "X": WORKED_X}
    logits, _ = mlp_forward(student, WORKED_PARAMS, WORKED_X)
    expect(logits, WORKED_LOGITS, "logits", function="mlp_forward", inputs=inputs,
           output=(logits, None), case="init_mlp([2, 3, 2], seed=0), the four points")
    params, X = random_params(rng, [3, 5, 4, 3]), rng.normal(size=(6, 3))
    logits, _ = mlp_forward(student, params, X)
    expect(logits, network(params, X), "logits", function="mlp_forward",
           inputs={"params": params, "X": X}, output=(logits, None),
           case="layer sizes [3, 5, 4, 3], N = 6")


@pytest.mark.points(5)
@pytest.mark.hint("Start from dL/dlogits (softmax_ce_grad) and go down one layer at a time: "
                  "the affine layer gives dW, db and dA of the layer below; below a hidden "
                  "layer, dA passes back through that layer's tanh first.",
                  "For l = L, ..., 1: dW_l = A_{l-1}^T dZ_l, db_l = the sum of the rows of "
                  "dZ_l, dA_{l-1} = dZ_l W_l^T, and dZ_{l-1} = dA_{l-1} * (1 - A_{l-1}^2). The "
                  "1/N of the mean is in dL/dlogits only. If the last layer's gradients are "
                  "right and the others are not, look at the tanh step and at which cache "
                  "each layer uses.")
def test_mlp_backward_worked_example_and_numerical_gradient(student, rng):
    """Does mlp_backward give the text's loss and gradients, and does every gradient of a
    3-layer network agree with central differences?"""
    _, cache = mlp_forward(student, WORKED_PARAMS, WORKED_X)
    loss, grads = mlp_backward(student, WORKED_PARAMS, WORKED_X, WORKED_Y, cache)
    inputs = {"params": WORKED_PARAMS, "X": WORKED_X, "y": WORKED_Y}
    case = "init_mlp([2, 3, 2], seed=0), the four points"
    expect(loss, WORKED_LOSS, "the loss", function="mlp_backward", inputs=inputs,
           output=(loss, grads), case=case)
    expect(grads["W1"][0, 1], WORKED_DW1_01, "dL/dW1[0, 1]", function="mlp_backward",
           inputs=inputs, output=(loss, grads), case=case)
    expect(grads["b2"], WORKED_DB2, "dL/db2", function="mlp_backward", inputs=inputs,
           output=(loss, grads), case=case)
    params, X = random_params(rng, [3, 4, 4, 3]), rng.normal(size=(5, 3))
    y = np.array([0, 2, 1, 2, 0])
    _, cache = mlp_forward(student, params, X)
    loss, grads = mlp_backward(student, params, X, y, cache)
    inputs = {"params": params, "X": X, "y": y}
    expect(loss, cross_entropy(y, network(params, X)), "the loss", function="mlp_backward",
           inputs=inputs, output=(loss, grads), case="layer sizes [3, 4, 4, 3], N = 5")
    for key in params:
        def objective(value, key=key):
            return cross_entropy(y, network({**params, key: value}, X))

        with diagnosing("mlp_backward", inputs, (loss, grads)):
            expect_gradient(check_gradient(grads[key], objective, params[key]),
                            f"the gradient {key} (layer sizes [3, 4, 4, 3], N = 5)",
                            "the cross-entropy of the network")


@pytest.mark.points(3)
@pytest.mark.hint("Each epoch: mlp_forward with the current params, mlp_backward, record the "
                  "loss, then step every parameter against its gradient, by lr times it, into "
                  "a new dict.",
                  "Compare your five losses with the text's. If losses[0] is off, the forward "
                  "pass or the loss is; if losses[0] is right and the rest drift, check that "
                  "every parameter, biases included, moves by exactly -lr times its gradient, "
                  "that the loss is recorded before the step, and that the params returned "
                  "are those after the last step.")
def test_train_mlp_first_steps(student):
    """Do five steps at lr = 0.5 record the text's losses and return the params of the
    fifth step, inputs untouched?"""
    inputs = {"params": WORKED_PARAMS, "X": WORKED_X, "y": WORKED_Y, "lr": 0.5, "epochs": 5}
    reply, trained, losses = train(student, WORKED_PARAMS, WORKED_X, WORKED_Y, 5, lr=0.5,
                                   epochs=5)
    with diagnosing("train_mlp", inputs, (trained, losses)):
        expect(losses, SIX_LOSSES[:5], "losses", case="lr = 0.5, 5 epochs")
        expect(cross_entropy(WORKED_Y, network(trained, WORKED_X)), SIX_LOSSES[5],
               "the loss of the params returned after 5 steps", case="lr = 0.5, 5 epochs")
    expect_inputs_unchanged(reply, (WORKED_PARAMS, WORKED_X, WORKED_Y), "train_mlp")


@pytest.mark.points(1)
@pytest.mark.hint("For each sample, the index of the largest of its K logits: one integer "
                  "label per row.")
def test_predict_worked_example(student, rng):
    """Does predict give [1, 0, 0, 1] for the text's untrained network, and the largest
    logit's class for 4 classes?"""
    expect_labels(student, WORKED_PARAMS, WORKED_X, "the worked example")
    params, X = random_params(rng, [3, 6, 4]), rng.normal(size=(9, 3))
    expect_labels(student, params, X, "4 classes, N = 9")


# -- hidden tests -----------------------------------------------------------------------

AFFINE_CASES = [(1, 3, 2), (64, 10, 7), (8, 1, 1), (6, 5, 5)]
NETWORKS = [[4, 3], [3, 6, 2], [5, 4, 6, 3]]  # L = 1, 2, 3


@pytest.mark.hidden
@pytest.mark.points(3)
def test_affine_matches_reference(student, reference, rng):
    """Do affine_forward and affine_backward match the reference for batches of 1 and 64
    and a square W, inputs untouched?"""
    for n, d, m in AFFINE_CASES:
        x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
        dout = rng.normal(size=(n, m))
        reply = student.call("affine_forward", x, W, b, return_inputs=True)
        out, cache = expect_tuple(reply.value, 2, "affine_forward", "(out, cache)")
        expect(out, reference.affine_forward(x, W, b)[0], "out", function="affine_forward",
               inputs={"x": x, "W": W, "b": b}, case=f"N={n}, D={d}, M={m}")
        expect_inputs_unchanged(reply, (x, W, b), "affine_forward")
        inputs = {"x": x, "W": W, "b": b, "dout": dout}
        reply = student.call("affine_backward", dout, cache, return_inputs=True)
        got = affine_backward(student, dout, cache, inputs, output=reply.value)
        want = reference.affine_backward(dout, reference.affine_forward(x, W, b)[1])
        for name, g, w in zip(("dx", "dW", "db"), got, want, strict=True):
            expect(g, w, name, function="affine_backward", inputs=inputs, output=got,
                   case=f"N={n}, D={d}, M={m}")
        expect_inputs_unchanged(reply, (dout,), "affine_backward")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_init_mlp_matches_reference(student, reference):
    """Does init_mlp match the reference for 1, 2 and 4 layers and other seeds?"""
    for layer_sizes, seed in [([5, 2], 3), ([3, 8, 8], 11), ([1, 2, 3, 4, 5], 42)]:
        inputs = {"layer_sizes": layer_sizes, "seed": seed}
        want = reference.init_mlp(layer_sizes, seed)
        got = student.init_mlp(layer_sizes, seed)
        with diagnosing("init_mlp", inputs, got):
            expect_dict(got, tuple(want), "init_mlp")
            for key in want:
                expect_array(got[key], want[key].shape, f"{key} from init_mlp")
        for key in want:
            expect(got[key], want[key], key, function="init_mlp", inputs=inputs, output=got,
                   case=f"init_mlp({layer_sizes}, seed={seed})")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_mlp_forward_matches_reference(student, reference, rng):
    """Does mlp_forward match the reference for 1, 2 and 3 layers and batches of 1 and 40,
    params and X untouched?"""
    for layer_sizes in NETWORKS:
        params = random_params(rng, layer_sizes)
        for n in (1, 40):
            X = rng.normal(size=(n, layer_sizes[0]))
            reply = student.call("mlp_forward", params, X, return_inputs=True)
            logits, _ = mlp_forward(student, params, X, output=reply.value)
            expect(logits, reference.mlp_forward(params, X)[0], "logits", function="mlp_forward",
                   inputs={"params": params, "X": X}, output=(logits, None),
                   case=f"layer sizes {layer_sizes}, N = {n}")
            expect_inputs_unchanged(reply, (params, X), "mlp_forward")


@pytest.mark.hidden
@pytest.mark.points(4)
def test_mlp_backward_matches_reference(student, reference, rng):
    """Do the loss and every gradient match the reference for 1, 2 and 3 layers and batches
    of 1 and 40, from the cache of the batch asked about, inputs untouched?"""
    for layer_sizes in NETWORKS:
        params = random_params(rng, layer_sizes)
        for n in (1, 40):
            X = rng.normal(size=(n, layer_sizes[0]))
            y = rng.integers(0, layer_sizes[-1], size=n)
            _, cache = mlp_forward(student, params, X)
            # Another batch through the same network: backward must use its own cache.
            other = rng.normal(size=(n + 3, layer_sizes[0]))
            mlp_forward(student, params, other)
            reply = student.call("mlp_backward", params, cache, y, return_inputs=True)
            loss, grads = mlp_backward(student, params, X, y, cache, output=reply.value)
            want_loss, want = reference.mlp_backward(params, reference.mlp_forward(params, X)[1],
                                                     y)
            inputs = {"params": params, "X": X, "y": y}
            case = f"layer sizes {layer_sizes}, N = {n}"
            expect(loss, want_loss, "the loss", function="mlp_backward", inputs=inputs,
                   output=(loss, grads), case=case)
            for key in params:
                expect(grads[key], want[key], f"the gradient {key}", function="mlp_backward",
                       inputs=inputs, output=(loss, grads), case=case)
            expect_inputs_unchanged(reply, (params, None, y), "mlp_backward")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_train_mlp_matches_reference(student, reference, rng):
    """Do the losses and the trained params match the reference step for step, for 3 classes
    and 3 layers, inputs untouched?"""
    params = random_params(rng, [3, 5, 4, 3])
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20)
    inputs = {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 30}
    reply, trained, losses = train(student, params, X, y, 30, lr=0.3, epochs=30)
    want_params, want_losses = reference.train_mlp(params, X, y, lr=0.3, epochs=30)
    expect(losses, np.asarray(want_losses, dtype=np.float64), "losses", function="train_mlp",
           inputs=inputs, output=(trained, losses), case="lr = 0.3, 30 epochs")
    for key in params:
        expect(trained[key], want_params[key], f"trained {key}", function="train_mlp",
               inputs=inputs, output=(trained, losses), case="lr = 0.3, 30 epochs")
    expect_inputs_unchanged(reply, (params, X, y), "train_mlp")


@pytest.mark.hidden
@pytest.mark.points(4)
def test_train_mlp_learns_the_two_moons(student, details):
    """Do the default lr and epochs train init_mlp([2, 16, 16, 2], seed=0) on the two moons
    to a training accuracy of at least 0.97?"""
    X, y = two_moons(200, noise=0.1, seed=0)
    params = recipe([2, 16, 16, 2], 0)
    reply, trained, losses = train(student, params, X, y, DEFAULT_EPOCHS)
    details["loss_curve"] = loss_curves(losses, params, X, y)
    expect(losses[0], cross_entropy(y, network(params, X)), "losses[0]",
           case="the loss before the first step")
    final = cross_entropy(y, network(trained, X))
    if not final < losses[0]:
        raise GradeFailure(f"training did not lower the loss: {losses[0]:.4g} before, "
                           f"{final:.4g} after")
    reached = accuracy(trained, X, y)
    if not reached >= ACCURACY:
        raise GradeFailure(f"after training with the defaults the training accuracy is "
                           f"{reached:.3f}, not at least {ACCURACY} (loss {final:.4g})")
    expect_inputs_unchanged(reply, (params, X, y), "train_mlp")


@pytest.mark.hidden
@pytest.mark.points(1)
def test_predict_matches_reference(student, reference, rng):
    """Does predict match the reference for 1, 2 and 3 layers, 3 to 6 classes, N = 1 and 50,
    inputs untouched?"""
    for layer_sizes in ([4, 5], [3, 6, 4], [2, 5, 5, 3]):
        params = random_params(rng, layer_sizes)
        for n in (1, 50):
            X = rng.normal(size=(n, layer_sizes[0]))
            expect_labels(student, params, X, f"layer sizes {layer_sizes}, N = {n}",
                          want=reference.predict(params, X))
