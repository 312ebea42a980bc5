"""Similar submissions (grader.course.similarity): copies are caught through renaming,
reformatting and reordering; independent solutions, and the stubs everybody starts
from, are not.

The class of each test is built in tmp_path from the course's own code: Alice's example
(correct, written her way), the reference solutions, THIRD below (correct, in another
style: loops, helpers, another decomposition) and the stubs.
"""

from __future__ import annotations

import ast
import csv
import io
import keyword
import random
import tokenize
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exercises
import solutions
from grader import contract
from grader.course import similarity, winnowing
from grader.course.similarity import (
    CAVEAT,
    DEFAULT_THRESHOLD,
    Pair,
    compare,
    normalise,
    side_by_side,
    to_csv,
)
from grader.errors import TooFewSubmissions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "submissions"
MODULES = contract.exercise_names("backprop")
STUBS = Path(exercises.__file__).resolve().parent
SOLUTIONS = Path(solutions.__file__).resolve().parent


def read(folder: Path) -> dict[str, str]:
    return {m: (folder / f"{m}.py").read_text(encoding="utf-8") for m in MODULES}


ALICE = read(EXAMPLES / "alice_correct" / "exercises")
REFERENCE = read(SOLUTIONS)
STUB = read(STUBS)

# A third correct solution (it scores 100/100), written unlike Alice's and the reference.
THIRD = {
    "sigmoid": """\
import math

import numpy as np


def _logistic(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    t = math.exp(v)
    return t / (1.0 + t)


def sigmoid(z):
    arr = np.array(z, dtype=np.float64)
    flat = [_logistic(v) for v in arr.ravel()]
    result = np.array(flat, dtype=np.float64).reshape(arr.shape)
    if arr.ndim == 0:
        return float(result)
    return result


def sigmoid_grad(z):
    value = sigmoid(z)
    return value - value ** 2
""",
    "mse": """\
import numpy as np


def mse_loss(y_true, y_pred):
    t = np.ravel(np.asarray(y_true, dtype=float))
    p = np.ravel(np.asarray(y_pred, dtype=float))
    total = 0.0
    for a, b in zip(t, p):
        total += (a - b) ** 2
    return total / len(t)


def mse_grad(y_true, y_pred):
    p = np.array(y_pred, dtype=float)
    t = np.asarray(y_true, dtype=float)
    grad = np.empty_like(p)
    for idx in np.ndindex(p.shape):
        grad[idx] = 2 * (p[idx] - t[idx]) / p.size
    return grad
""",
    "dense": """\
import numpy as np

from exercises.provided import sigmoid


def dense_forward(x, W, b):
    z = np.matmul(x, W)
    z = z + b[np.newaxis, :]
    out = sigmoid(z)
    return out, [x, W, out]


def dense_backward(dh, cache):
    inputs, weights, activ = cache
    delta = np.multiply(dh, activ - activ * activ)
    grad_x = np.matmul(delta, np.transpose(weights))
    grad_w = np.zeros_like(weights)
    for row in range(inputs.shape[0]):
        grad_w += np.outer(inputs[row], delta[row])
    grad_b = np.zeros(weights.shape[1])
    for row in delta:
        grad_b = grad_b + row
    return grad_x, grad_w, grad_b
""",
    "cross_entropy": """\
import numpy as np

from exercises.provided import sigmoid


def _softplus(v):
    return np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v)))


def bce_loss(y_true, logits):
    logits = np.asarray(logits, dtype=float)
    labels = np.asarray(y_true, dtype=float)
    terms = _softplus(logits) - labels * logits
    return float(terms.sum() / terms.shape[0])


def bce_grad(y_true, logits):
    logits = np.asarray(logits, dtype=float)
    probs = np.array([sigmoid(float(v)) for v in logits])
    return (probs - np.asarray(y_true, dtype=float)) / logits.size


def logistic_regression_grad(w, b, X, y):
    n = X.shape[0]
    gw = np.zeros(len(w))
    gb = 0.0
    for i in range(n):
        err = sigmoid(float(X[i] @ w + b)) - y[i]
        gw += err * X[i] / n
        gb += err / n
    return gw, float(gb)
""",
    "chain_rule": """\
import numpy as np


def graph_forward(x):
    values = {}
    values["a"] = np.square(x)
    values["b"] = np.sin(values["a"])
    values["c"] = 3 * np.square(x)
    values["d"] = values["b"] + values["c"]
    values["J"] = np.cos(values["d"])
    return values


def graph_backward(x):
    fwd = graph_forward(x)
    grads = {"d": -1.0 * np.sin(fwd["d"])}
    grads["b"] = grads["d"]
    grads["c"] = grads["d"]
    grads["a"] = grads["b"] * np.cos(fwd["a"])
    grads["x"] = 2 * x * grads["a"] + 6 * x * grads["c"]
    return grads
""",
    "training": """\
import numpy as np

from exercises.provided import sigmoid


def init_params(n_inputs, n_hidden, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    params["W1"] = rng.standard_normal(size=(n_inputs, n_hidden))
    params["b1"] = np.zeros((n_hidden,))
    params["W2"] = rng.standard_normal(size=(n_hidden, 1))
    params["b2"] = np.zeros((1,))
    return params


def _layer(inputs, weights, bias):
    return sigmoid(np.dot(inputs, weights) + bias)


def forward(params, X):
    first = _layer(X, params["W1"], params["b1"])
    prediction = _layer(first, params["W2"], params["b2"]).reshape(-1)
    return prediction, {"X": X, "A1": first, "out": prediction}


def backward(params, cache, y_true):
    count = y_true.shape[0]
    out = cache["out"]
    g_z2 = (2.0 * (out - y_true) / count * out * (1.0 - out)).reshape(-1, 1)
    grads = {"W2": np.dot(cache["A1"].T, g_z2), "b2": np.sum(g_z2, axis=0)}
    g_z1 = np.dot(g_z2, params["W2"].T) * cache["A1"] * (1.0 - cache["A1"])
    grads["W1"] = np.dot(cache["X"].T, g_z1)
    grads["b1"] = np.sum(g_z1, axis=0)
    return grads


def sgd_step(params, grads, lr):
    updated = {}
    for key in params:
        updated[key] = params[key] - lr * grads[key]
    return updated


def train(params, X, y, lr=0.5, epochs=500):
    history = []
    current = params
    step = 0
    while step < epochs:
        pred, cache = forward(current, X)
        history.append(np.mean(np.square(y - pred)))
        current = sgd_step(current, backward(current, cache, y), lr)
        step += 1
    return current, np.asarray(history, dtype=float)
""",
}


# -- disguising a copy --------------------------------------------------------------------

COMMENTS = ("the gradient flows back here", "see lecture 4", "vectorised", "TODO tidy",
            "shape (N, M)", "numerically stable")


def rename(source: str, mapping: dict[str, str]) -> str:
    """``source`` with every name in ``mapping`` replaced where it is a name, not an
    attribute (``x.T`` keeps its ``T``)."""
    lines = source.splitlines(keepends=True)
    edits, previous = [], ""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in mapping and previous != ".":
            edits.append((tok.start, tok.end[1], mapping[tok.string]))
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
            previous = tok.string
    for (row, col), end, new in reversed(edits):
        lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][end:]
    return "".join(lines)


def local_names(source: str) -> set[str]:
    """The names a module binds inside its functions: parameters and local variables."""
    names = set()
    for function in ast.walk(ast.parse(source)):
        if isinstance(function, (ast.FunctionDef, ast.Lambda)):
            names |= {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
            names |= {node.id for node in ast.walk(function)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return names


def split(source: str) -> tuple[str, list[str]]:
    """A module as its head (imports; its docstring dropped) and its functions' sources."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert all(isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom, ast.Expr))
               for node in tree.body), "a module of imports and functions only"
    head = "".join("".join(lines[node.lineno - 1:node.end_lineno]) for node in tree.body
                   if isinstance(node, (ast.Import, ast.ImportFrom)))
    return head, ["".join(lines[f.lineno - 1:f.end_lineno]) for f in functions]


def reformat(source: str, rng: random.Random) -> str:
    """Indented by 2 instead of 4, its comments gone, others added, new docstrings, blank
    lines where there were none."""
    out: list[str] = []
    for line in source.splitlines():
        text = line.lstrip(" ")
        if text.startswith("#"):
            continue
        indent = " " * ((len(line) - len(text)) // 2)
        out.append(indent + text.split("  # ")[0])
        if text.startswith("def "):
            out.append(f'{indent}  """What {rng.choice(COMMENTS)} means to me."""')
        elif text and rng.random() < 0.3:
            out[-1] += f"  # {rng.choice(COMMENTS)}"
        if rng.random() < 0.2:
            out.append("")
    return '"""My own work."""\n' + "\n".join(out) + "\n"


def disguise(modules: dict[str, str], seed: int = 0) -> dict[str, str]:
    """A copy of ``modules`` as a student hides one: every parameter and local variable
    renamed, comments and docstrings changed, layout changed, the functions of each
    module in another order, and one function moved to another module."""
    rng = random.Random(seed)
    parts = {module: split(source) for module, source in modules.items()}
    names = sorted(set().union(*(local_names(source) for source in modules.values())))
    mapping = {name: f"{rng.choice('qvwk')}{rng.randrange(10**6)}_{i}"
               for i, name in enumerate(names)}
    order = sorted(parts)
    giver = next(m for m in order if len(parts[m][1]) >= 2)
    taker = order[(order.index(giver) + 1) % len(order)]
    parts[taker][1].append(parts[giver][1].pop())
    out = {}
    for module, (head, functions) in parts.items():
        rng.shuffle(functions)
        if len(functions) >= 2 and rng.random() < 0.5:
            functions.reverse()
        source = head + "\n\n" + "\n\n".join(functions)
        out[module] = reformat(rename(source, mapping), rng)
        ast.parse(out[module])  # still Python: the disguise is one a student could hand in
    return out


# -- a class in tmp_path ------------------------------------------------------------------


@pytest.fixture
def klass(tmp_path):
    """Write submissions into tmp_path/class: ``{id: {module: source}}``; returns the folder."""
    folder = tmp_path / "class"

    def write(submissions: dict[str, dict[str, str]]) -> Path:
        for sub_id, modules in submissions.items():
            (folder / sub_id).mkdir(parents=True)
            for module, source in modules.items():
                (folder / sub_id / f"{module}.py").write_text(source, encoding="utf-8")
        return folder

    return write


def pairs_by_ids(result) -> dict[frozenset[str], Pair]:
    return {frozenset((pair.a, pair.b)): pair for pair in result.pairs}


# -- copies are caught ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_renamed_reformatted_reordered_copy_is_flagged(klass, seed):
    """Is a copy of Alice's work with every local name renamed, comments, docstrings and
    layout changed, functions reordered and one moved to another module still found,
    whole? (No fingerprint spans two functions, so their order changes none.)"""
    copy = disguise(ALICE, seed)
    assert copy["training"] != ALICE["training"]
    folder = klass({"copy": copy, "third": THIRD, "reference": REFERENCE})
    result = compare([folder, EXAMPLES / "alice_correct"])
    pair = pairs_by_ids(result)[frozenset(("alice_correct", "copy"))]
    assert pair.flagged and pair.similarity >= 0.95, pair
    assert pair.a_share >= 0.95 and pair.b_share >= 0.95
    assert result.pairs[0] == pair  # ranked first
    flagged = {frozenset((p.a, p.b)) for p in result.pairs if p.flagged}
    assert flagged == {frozenset(("alice_correct", "copy"))}


def test_the_examples_bob_is_alice_with_four_mistakes():
    """Bob's example is Alice's code with four mistakes put in: flagged, as it should be.
    A submission named twice (in its class folder and on its own) is compared once."""
    result = compare([EXAMPLES, EXAMPLES / "bob_mistakes"])
    pair = pairs_by_ids(result)[frozenset(("alice_correct", "bob_mistakes"))]
    assert pair.flagged and pair.similarity >= 0.8
    assert result.compared == ("alice_correct", "bob_mistakes", "carol_unfinished")
    assert all(p.a < p.b for p in result.pairs)


def test_code_much_of_the_class_has_is_ignored(klass):
    """Eleven copies of one solution: past COMMON_FLOOR (10) submissions, their code is
    the class's common code and no pair is flagged; with ``common=1.0`` nothing is
    ignored and every pair is."""
    folder = klass({f"s{i:02d}": disguise(THIRD, i) for i in range(11)})
    assert not compare([folder]).pairs
    everything = compare([folder], common=1.0)
    assert len(everything.pairs) == 55 and all(p.flagged for p in everything.pairs)


def test_one_short_function_alike_is_not_flagged(klass):
    """Two students who each wrote only sigmoid_grad, the same two lines: all of what
    they wrote is alike, but fewer than MIN_SHARED fingerprints is no evidence."""
    body = "    # YOUR CODE HERE\n    raise NotImplementedError"
    last = STUB["sigmoid"].rindex(body)

    def only_sigmoid_grad(name: str) -> dict[str, str]:
        code = f"    {name} = sigmoid(z)\n    return {name} * (1.0 - {name})"
        return dict(STUB, sigmoid=STUB["sigmoid"][:last] + code
                    + STUB["sigmoid"][last + len(body):])

    folder = klass({"one": only_sigmoid_grad("s"), "two": only_sigmoid_grad("value")})
    (pair,) = compare([folder]).pairs
    assert pair.similarity == 1.0 and pair.shared < similarity.MIN_SHARED
    assert not pair.flagged


# -- independent work is not -----------------------------------------------------------------


def test_independent_correct_solutions_are_not_flagged(klass):
    """Alice's, the reference's and a third correct solution, each written its own way,
    are below the threshold two by two; so are two submissions that are the stubs, whose
    every line is the handed-out text."""
    folder = klass({"reference": REFERENCE, "third": THIRD, "stubs_a": STUB,
                    "stubs_b": {m: reformat(s, random.Random(5)) for m, s in STUB.items()}})
    result = compare([folder, EXAMPLES / "alice_correct"])
    assert set(result.compared) == {"alice_correct", "reference", "third", "stubs_a", "stubs_b"}
    assert not [p for p in result.pairs if p.flagged], result.pairs
    assert all(p.similarity < DEFAULT_THRESHOLD for p in result.pairs)
    assert all({p.a, p.b}.isdisjoint({"stubs_a", "stubs_b"}) for p in result.pairs)
    by_ids = pairs_by_ids(result)
    third = [by_ids.get(frozenset(("third", other))) for other in ("alice_correct", "reference")]
    assert all(pair is None or pair.similarity < 0.1 for pair in third)


def test_the_stub_text_does_not_count(klass):
    """A student who filled in one function has the fingerprints of that function only:
    the signatures, docstrings and given lines of the stub are not theirs."""
    one = dict(STUB, mse=STUB["mse"].replace(
        "    # YOUR CODE HERE\n    raise NotImplementedError",
        "    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)"
        "\n    return float(np.sum(diff * diff) / diff.size)", 1))
    folder = klass({"one": one, "stubs": STUB})
    read = similarity._read_class([folder], set(MODULES), winnowing.handed_out(), [])
    prints = {r.id: r.prints for r in read}
    assert prints["stubs"] == {}
    lines = one["mse"].splitlines()
    filled = lines.index("    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, "
                         "dtype=np.float64)") + 1
    places = [where for found in prints["one"].values() for where in found]
    assert places and {module for module, _, _ in places} == {"mse"}
    # Only the new lines, and the next function's signature where a k-gram runs into it.
    assert all(filled <= first and last <= filled + 1 + winnowing.GAP + 1
               for _, first, last in places), places


# -- partial copying ---------------------------------------------------------------------------


def test_one_copied_module_is_in_between_and_its_regions_point_at_it(klass):
    """Alice's training.py (renamed) in otherwise independent work: a similarity between
    the two extremes, with the regions on training.py, holding the original lines."""
    copied = disguise({"training": ALICE["training"]}, 3)["training"]
    folder = klass({"partial": dict(THIRD, training=copied)})
    result = compare([folder, EXAMPLES / "alice_correct"])
    (pair,) = result.pairs
    assert (pair.a, pair.b) == ("alice_correct", "partial")
    assert 0.2 < pair.similarity < 0.8 and pair.b_share < pair.a_share
    training = [r for r in pair.regions if r.a_module == "training"]
    assert training and all(r.b_module == "training" for r in training)
    covered = {line for r in training for line in range(r.a_lines[0], r.a_lines[1] + 1)}
    body = {i for i, text in enumerate(ALICE["training"].splitlines(), 1)
            if text.startswith("    ") and not text.strip().startswith(('"', "}"))}
    assert len(body & covered) >= 0.8 * len(body)
    for region in training:
        first, last = region.a_lines
        assert region.a_text == "\n".join(ALICE["training"].splitlines()[first - 1:last])
        first, last = region.b_lines
        assert region.b_text == "\n".join(copied.splitlines()[first - 1:last])


def test_side_by_side_shows_both_sides_with_line_numbers(klass):
    copy = disguise(ALICE, 4)
    folder = klass({"copy": copy})
    result = compare([folder, EXAMPLES / "alice_correct"])
    pair = result.pairs[0]
    assert pair.flagged  # a class of two is compared as any other
    text = side_by_side(pair, width=400)
    assert CAVEAT in text and "alice_correct/training.py" in text
    for region in pair.regions:
        first = region.a_text.splitlines()[0].strip()
        assert first in text and region.b_text.splitlines()[0].strip() in text
    rows = [line.split(" | ") for line in text.splitlines() if " | " in line]
    theirs = next(line for line in copy["training"].splitlines() if " in range(" in line)
    number = copy["training"].splitlines().index(theirs) + 1
    assert any(left.split()[1:4] == ["for", "_", "in"] for left, _ in rows)  # Alice's loop
    assert [str(number), theirs.strip()] in [right.strip().split(None, 1) for _, right in rows
                                        if right.strip()]  # the copy's, numbered as in its file
    assert max(len(line) for line in side_by_side(pair, width=80).splitlines()) <= 80


# -- what cannot be read --------------------------------------------------------------------


def test_an_unreadable_submission_is_skipped_and_listed(klass, tmp_path):
    folder = klass({"reference": REFERENCE, "third": THIRD})
    (folder / "x.zip").write_bytes(b"this is not a zip")
    (folder / "latin1").mkdir()
    (folder / "latin1" / "mse.py").write_bytes("# café\n".encode("latin-1"))
    (folder / "half").mkdir()
    (folder / "half" / "mse.py").write_bytes(b"\xff\xfe")
    (folder / "half" / "sigmoid.py").write_text(ALICE["sigmoid"], encoding="utf-8")
    result = compare([folder])
    assert result.compared == ("half", "reference", "third")
    skipped = dict(result.skipped)
    assert set(skipped) == {"x", "latin1", "half"}
    assert "UTF-8" in skipped["latin1"] and "x.zip" in skipped["x"]
    assert "the rest is compared" in skipped["half"]


def test_fewer_than_two_readable_submissions_is_an_error(klass):
    folder = klass({"third": THIRD})
    (folder / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(TooFewSubmissions, match="1 readable") as caught:
        compare([folder])
    assert caught.value.skipped[0][0] == "x"


# -- outputs -------------------------------------------------------------------------------


def test_the_csv_parses_back_ranked(klass):
    folder = klass({"copy": disguise(ALICE, 6), "reference": REFERENCE, "third": THIRD})
    result = compare([folder, EXAMPLES / "alice_correct"])
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert list(rows[0]) == ["a", "b", "similarity", "a_share", "b_share", "shared", "flagged"]
    assert len(rows) == len(result.pairs) >= 3
    values = [float(row["similarity"]) for row in rows]
    assert values == sorted(values, reverse=True)
    assert all(len(row["similarity"].split(".")[1]) == 3 for row in rows)
    assert rows[0]["flagged"] == "yes" and {row["flagged"] for row in rows[1:]} == {"no"}
    assert all(row["a"] < row["b"] for row in rows)
    dumped = result.pairs[0].to_dict()
    assert set(dumped) == {"a", "b", "similarity", "a_share", "b_share", "shared", "flagged",
                           "regions"}
    assert set(dumped["regions"][0]) == {"a_module", "a_lines", "b_module", "b_lines",
                                         "a_text", "b_text"}


# -- normalisation ---------------------------------------------------------------------------


def texts(source: str) -> list[str]:
    return [text for text, _, _ in normalise(source)]


def test_normalisation_keeps_what_the_code_does():
    tokens = texts('"""doc"""\nimport numpy as np\n\n\ndef f(x):  # c\n    """doc"""\n'
                   '    "a comment as a string"\n    return np.exp(-x) + 2.5 * f"{x}"\n')
    assert tokens == ["import", "N", "as", "N", "def", "N", "(", "N", ")", ":", "return",
                      "N", ".", "exp", "(", "-", "N", ")", "+", "2.5", "*", "S"]


def test_source_that_does_not_compile_is_scanned_all_the_same():
    tokens = normalise('def f(x:\n    return x + 1  # unclosed\n"""never closed\n')
    assert [t for t, _, _ in tokens][:6] == ["def", "N", "(", "N", ":", "return"]
    assert (tokens[5][1], tokens[-1][:2]) == (2, ("S", 3))  # the lines are still right


def by_tokenize(source: str) -> list[tuple[str, int, int]]:
    """What normalise gives, told by Python's own tokenizer (for source that compiles)."""
    out: list[tuple[str, int, int]] = []
    statement: list[tuple[bool, str, int]] = []
    depth = part = fstrings = 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = tokenize.tok_name[tok.type]
        if kind in ("FSTRING_START", "FSTRING_END") or fstrings:  # Python 3.12's f-strings
            fstrings += (kind == "FSTRING_START") - (kind == "FSTRING_END")
            if not fstrings:
                statement.append((True, "S", tok.start[0]))
        elif kind in ("NEWLINE", "ENDMARKER"):
            if not all(is_string for is_string, _, _ in statement):
                out += [(text, line, part) for _, text, line in statement]
            statement = []
        elif kind in ("INDENT", "DEDENT"):
            depth += 1 if kind == "INDENT" else -1
        elif kind not in ("COMMENT", "NL") and tok.string.strip():
            if not statement and not depth and tok.string in ("def", "class", "async", "@"):
                part += 1
            text = tok.string
            if kind == "NAME" and not keyword.iskeyword(text) and not (
                    statement and statement[-1][1] == "."):
                text = "N"
            statement.append((kind == "STRING", "S" if kind == "STRING" else text,
                              tok.start[0]))
    return out


COURSE_FILES = sorted(path for folder in ("exercises", "solutions", "examples", "autotests",
                                          "grader", "bench")
                      for path in (ROOT / folder).rglob("*.py"))


def test_the_scanner_agrees_with_pythons_tokenizer():
    """Does the fast scanner give, on every module of the course and of the grader, the
    tokens and lines that Python's own tokenize gives?"""
    sources = [path.read_text(encoding="utf-8") for path in COURSE_FILES]
    sources += list(THIRD.values()) + list(disguise(ALICE, 7).values())
    assert len(sources) > 100
    for source in sources:
        assert normalise(source) == by_tokenize(source)


SAMPLES = [("alice", ALICE), ("reference", REFERENCE), ("third", THIRD)]
IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name))


def names_of(source: str) -> list[str]:
    """Every identifier that is not an attribute: what a student is free to rename."""
    found, previous = set(), ""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and previous != ".":
            found.add(tok.string)
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
            previous = tok.string
    return sorted(found)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from([(f"{who}/{m}", s[m]) for who, s in SAMPLES for m in MODULES]),
       st.data())
def test_normalisation_ignores_names_comments_and_blank_lines(sample, data):
    """Whatever new names (one per identifier, not necessarily distinct) and whatever
    comments and blank lines are added, the normalised tokens stay the same."""
    _, source = sample
    names = names_of(source)
    mapping = dict(zip(names, data.draw(st.lists(IDENTIFIER, min_size=len(names),
                                                 max_size=len(names))), strict=True))
    lines = rename(source, mapping).splitlines()
    insert = data.draw(st.lists(st.tuples(st.integers(0, len(lines)),
                                          st.sampled_from(["", "# note", "    # more", "  "])),
                                max_size=8))
    for position, text in sorted(insert, reverse=True):
        lines.insert(position, text)
    trailing = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=5))
    for index in trailing:
        if not lines[index].rstrip().endswith("\\"):
            lines[index] += "  # trailing"
    assert texts("\n".join(lines) + "\n") == texts(source)
