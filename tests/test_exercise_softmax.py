"""The softmax exercise, graded by the real grader: the reference earns everything, trivial
code nothing, a different correct implementation everything, and each known mistake is
named where a student can see it (a visible test) and again in the hidden tests."""

from __future__ import annotations


import numpy as np
import pytest

from grader import contract
from grader.course.stubs import clear_solutions
from grader.grading import misconceptions
from tests.conftest import SOLUTIONS

EXERCISE = "softmax"
REFERENCE = (SOLUTIONS / f"{EXERCISE}.py").read_text(encoding="utf-8")
POINTS = 30.0


def softmax_tests(report: dict) -> list[dict]:
    (exercise,) = [e for e in report["exercises"] if e["name"] == EXERCISE]
    return exercise["tests"]


def graded(grade, paths) -> dict:
    return grade(paths, jobs=2, assignment="networks")


def named(report: dict, visibility: str) -> set:
    return {t["misconception"] for t in softmax_tests(report)
            if t["visibility"] == visibility and t["misconception"]}


def test_the_exercise_is_declared_as_the_brief_says():
    exercise = contract.exercise(EXERCISE)
    assert (exercise.assignment, exercise.order, exercise.points) == ("networks", 1, POINTS)
    assert [f.name for f in exercise.functions] == ["softmax", "softmax_ce_loss",
                                                    "softmax_ce_grad"]


# -- full marks ----------------------------------------------------------------------

# Correct, written otherwise: the log-sum-exp by np.logaddexp.reduce, the labels picked
# with take_along_axis, a one-hot from np.eye, the loss a 0-d array, the gradient
# computed from the log-softmax without calling softmax.
DIFFERENT = '''
import numpy as np


def softmax(z):
    z = np.array(z, dtype=np.float64)
    return np.exp(z - np.logaddexp.reduce(z, axis=1)[:, None])


def softmax_ce_loss(y, logits):
    lse = np.logaddexp.reduce(logits, axis=1)
    picked = np.take_along_axis(logits, np.asarray(y)[:, None], axis=1)[:, 0]
    return np.asarray(np.sum(lse - picked) / len(picked))


def softmax_ce_grad(y, logits):
    log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    onehot = np.eye(logits.shape[1])[np.asarray(y)]
    return (np.exp(log_p) - onehot) * (1.0 / logits.shape[0])
'''

# Appended to the reference: each function runs the reference, then makes its result
# trivial in one way, keeping its shape (the reference's own inner calls stay right).
TRIVIAL = '''

import numpy as _np

_depth = [0]


def _trivial(value, args):
    if HOW == "none":
        return None
    if HOW == "echo":
        return args[-1]
    array = _np.asarray(value, dtype=_np.float64)
    made = {"zeros": _np.zeros_like(array), "constant": _np.full_like(array, 0.5),
            "negated": -array}[HOW]
    return float(made) if isinstance(value, float) else made


def _make_trivial(function):
    def trivial(*args):
        _depth[0] += 1
        try:
            value = function(*args)
        finally:
            _depth[0] -= 1
        return value if _depth[0] else _trivial(value, args)
    return trivial


for _name in ("softmax", "softmax_ce_loss", "softmax_ce_grad"):
    globals()[_name] = _make_trivial(globals()[_name])
'''
TRIVIAL_KINDS = ("none", "zeros", "constant", "echo", "negated")
STUB = clear_solutions(REFERENCE)


def test_right_code_scores_everything_and_trivial_code_nothing(grade, make_submission):
    """The reference and a correct variant pass every test, public and hidden; None, zeros,
    0.5, the input echoed, the answer negated and the stub earn nothing on any test."""
    right = {"reference": REFERENCE, "different": DIFFERENT}
    trivial = {how: REFERENCE + TRIVIAL.replace("HOW", repr(how)) for how in TRIVIAL_KINDS}
    trivial["stub"] = STUB
    paths = [make_submission(name, {EXERCISE: source})
             for name, source in (right | trivial).items()]
    reports = graded(grade, paths)
    assert set(reports) == set(right) | set(trivial)
    for name in right:
        tests = softmax_tests(reports[name])
        assert {t["visibility"] for t in tests} == {"visible", "hidden"}
        failed = [(t["name"], t["message"]) for t in tests if t["status"] != "passed"]
        assert failed == [], name
        assert sum(t["score"] for t in tests) == POINTS, name
        public = sum(t["max_score"] for t in tests if t["visibility"] == "visible")
        assert 0.4 * POINTS <= public <= 0.6 * POINTS
    for name in trivial:
        earned = [(t["name"], t["score"]) for t in softmax_tests(reports[name]) if t["score"]]
        assert earned == [], name
    assert {t["status"] for t in softmax_tests(reports["stub"])} == {"not_implemented"}


# -- the named mistakes --------------------------------------------------------------

# id -> (the definitions appended to the reference, whether a hidden test names it too).
MISTAKES = {
    "softmax-wrong-axis": ('''
def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)
''', True),
    "softmax-broadcast-keepdims": ('''
def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1)
''', True),
    "softmax-overflow": ('''
def softmax(z):
    return np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)


def softmax_ce_loss(y, logits):
    lse = np.log(np.sum(np.exp(logits), axis=1))
    return float(np.mean(lse - logits[np.arange(len(y)), y]))
''', True),
    "softmax-global-max": ('''
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=1, keepdims=True)
''', True),
    "softmax-ce-loss-sum": ('''
_mean_loss = softmax_ce_loss


def softmax_ce_loss(y, logits):
    return _mean_loss(y, logits) * len(y)
''', True),
    "softmax-ce-loss-sign": ('''
def softmax_ce_loss(y, logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(np.mean(log_p[np.arange(len(y)), y]))
''', True),
    "softmax-ce-log-of-zero": ('''
def softmax_ce_loss(y, logits):
    return float(-np.mean(np.log(softmax(logits)[np.arange(len(y)), y])))
''', True),
    "softmax-ce-label-indexing": ('''
def softmax_ce_loss(y, logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(-np.mean(log_p[:, y]))


def softmax_ce_grad(y, logits):
    grad = softmax(logits)
    grad[:, y] -= 1
    return grad / len(y)
''', True),
    "softmax-grad-missing-mean": ('''
def softmax_ce_grad(y, logits):
    grad = softmax(logits)
    grad[np.arange(len(y)), y] -= 1
    return grad
''', True),
    "softmax-grad-sign": ('''
def softmax_ce_grad(y, logits):
    return (np.eye(logits.shape[1])[y] - softmax(logits)) / len(y)
''', True),
    "softmax-grad-no-onehot": ('''
def softmax_ce_grad(y, logits):
    return softmax(logits) / len(y)
''', True),
    "softmax-grad-diagonal-only": ('''
def softmax_ce_grad(y, logits):
    p = softmax(logits)
    rows = np.arange(len(y))
    dl_dp = np.zeros_like(p)
    dl_dp[rows, y] = -1.0 / p[rows, y]
    return dl_dp * p * (1 - p) / len(y)
''', True),
    "softmax-grad-labels-as-values": ('''
def softmax_ce_grad(y, logits):
    return (softmax(logits) - y[:, None]) / len(y)
''', True),
}
# The gradient alone, with a softmax of its own gone wrong (softmax itself is right).
GRADIENT_ONLY = {
    "softmax-wrong-axis": '''
def softmax_ce_grad(y, logits):
    e = np.exp(logits - np.max(logits, axis=0, keepdims=True))
    grad = e / np.sum(e, axis=0, keepdims=True)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)
''',
    "softmax-broadcast-keepdims": '''
def softmax_ce_grad(y, logits):
    z = logits - np.max(logits, axis=1)
    grad = np.exp(z) / np.sum(np.exp(z), axis=1)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)
''',
    "softmax-overflow": '''
def softmax_ce_grad(y, logits):
    grad = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)
''',
    "softmax-global-max": '''
def softmax_ce_grad(y, logits):
    e = np.exp(logits - np.max(logits))
    grad = e / np.sum(e, axis=1, keepdims=True)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)
''',
}
# And the loss alone with its log-softmax over the wrong axis.
LOSS_ONLY = {
    "softmax-wrong-axis": '''
def softmax_ce_loss(y, logits):
    shifted = logits - np.max(logits, axis=0, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y]))
''',
}

HINTS = {mistake: {m.hint for m in contract.course().mistakes if m.id == mistake}
         for mistake in MISTAKES}
CASES = ({f"{mistake}": (code, hidden) for mistake, (code, hidden) in MISTAKES.items()}
         | {f"grad-only:{mistake}": (code, True) for mistake, code in GRADIENT_ONLY.items()}
         | {f"loss-only:{mistake}": (code, True) for mistake, code in LOSS_ONLY.items()})


def test_every_declared_mistake_of_every_function_has_a_submission():
    declared = {(m.id, m.function) for m in contract.course().mistakes if m.exercise == EXERCISE}
    covered = {(case.split(":")[-1], function) for case, (code, _) in CASES.items()
               for function in ("softmax", "softmax_ce_loss", "softmax_ce_grad")
               if f"def {function}(" in code}
    assert declared <= covered
    assert {mistake for mistake, _ in declared} == set(MISTAKES)


def test_each_mistake_loses_points_and_is_named_publicly_and_in_hidden_tests(
        grade, make_submission):
    """Each mistake fails, is named on a visible test and on a hidden one, and nothing else
    is named for it."""
    paths = [make_submission(case.replace(":", "_"), {EXERCISE: REFERENCE + "\n\n" + code})
             for case, (code, _) in CASES.items()]
    reports = graded(grade, paths)
    wrong = {}
    for case, (_, hidden) in CASES.items():
        mistake = case.split(":")[-1]
        report = reports[case.replace(":", "_")]
        score = sum(t["score"] for t in softmax_tests(report))
        hints = {t["hint"] for t in softmax_tests(report) if t["misconception"]}
        seen = (score < POINTS, named(report, "visible"), named(report, "hidden"),
                hints <= HINTS[mistake])
        if seen != (True, {mistake}, {mistake} if hidden else set(), True):
            wrong[case] = seen
    assert wrong == {}


# -- the catalogue, without a grader run -----------------------------------------------


def square_case():
    """A square batch (so that a broadcast row reduction runs) with labels that differ."""
    rng = np.random.default_rng(11)
    return {"y": np.array([0, 3, 1, 3]), "logits": rng.normal(0.0, 1.5, size=(4, 4))}


def right_answers(inputs) -> dict:
    from solutions import softmax as ref

    z, y = inputs["logits"], inputs["y"]
    return {"softmax": ({"z": z}, ref.softmax(z)),
            "softmax_ce_loss": (inputs, ref.softmax_ce_loss(y, z)),
            "softmax_ce_grad": (inputs, ref.softmax_ce_grad(y, z))}


def softmax_mistakes():
    return [m for m in contract.course().mistakes if m.exercise == EXERCISE]


def test_no_mistake_is_named_for_the_reference():
    rng = np.random.default_rng(5)
    cases = [square_case()] + [{"y": rng.integers(0, k, size=n),
                                "logits": rng.normal(0.0, 3.0, size=(n, k))}
                               for n, k in [(1, 2), (5, 3), (3, 3), (8, 6)]]
    for inputs in cases:
        for function, (args, right) in right_answers(inputs).items():
            assert misconceptions.diagnose(function, args, right) is None, function


def test_each_variant_is_named_from_its_own_output_and_not_in_another_form():
    answers = right_answers(square_case())
    checked = 0
    for mistake in softmax_mistakes():
        inputs, _ = answers[mistake.function]
        for variant in mistake.variants:
            wrong = variant(misconceptions.REF, inputs)
            found = misconceptions.diagnose(mistake.function, inputs, wrong)
            assert found is not None and found.id == mistake.id, (mistake.id, mistake.function)
            # float32, text, and a list where an array is due (a list of a float is the float)
            other_forms = [np.asarray(wrong, dtype=np.float32), str(wrong)]
            if isinstance(wrong, np.ndarray):
                other_forms.append(wrong.tolist())
            for other_form in other_forms:
                assert misconceptions.diagnose(mistake.function, inputs, other_form) is None
            checked += 1
    assert checked >= 20


def test_the_warning_mistakes_need_the_warning_that_names_them():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -9999.0, -9998.0]])
    nan_row = np.array([[1.0, 0.0, 0.0], [np.nan, np.nan, np.nan]])
    overflow = ["RuntimeWarning: overflow encountered in exp",
                "RuntimeWarning: invalid value encountered in divide"]
    invalid = ["RuntimeWarning: invalid value encountered in divide"]
    log_of_zero = ["RuntimeWarning: divide by zero encountered in log"]
    inputs = {"y": np.array([2, 0]), "logits": z}

    def name(function, args, output, warnings):
        found = misconceptions.diagnose(function, args, output, warnings)
        return found and found.id

    assert name("softmax", {"z": z}, nan_row, overflow) == "softmax-overflow"
    assert name("softmax", {"z": z}, nan_row, invalid) == "softmax-global-max"
    assert name("softmax", {"z": z}, nan_row, ()) is None
    assert name("softmax", {"z": z[:1]}, nan_row[:1], invalid) is None  # rows not far apart
    assert name("softmax_ce_grad", inputs, nan_row, invalid) == "softmax-global-max"
    assert name("softmax_ce_grad", inputs, nan_row, overflow) == "softmax-overflow"
    assert name("softmax_ce_loss", inputs, float("inf"), log_of_zero) == "softmax-ce-log-of-zero"
    assert name("softmax_ce_loss", inputs, float("nan"), overflow) == "softmax-overflow"
    assert name("softmax_ce_loss", inputs, float("inf"), ()) is None


# -- the student bundle names the same mistakes ----------------------------------------

@pytest.mark.slow
def test_the_bundle_names_each_mistake_as_the_instructors_grader_does(tmp_path, make_submission):
    """Without the reference, from the fingerprints alone, does the bundle's grader name
    the same mistake on every public test as the instructor's?"""
    from grader import api
    from grader.course import release
    from grader.reports.results import to_dict
    from tests.test_bundle_diagnosis import graded_in_bundle
    from tests.test_release import install_bundle

    bundle = tmp_path / "backprop-lab"
    release.build(bundle)
    venv = install_bundle(bundle, tmp_path)
    paths = {case: make_submission(case.replace(":", "_"), {EXERCISE: REFERENCE + "\n\n" + code})
             for case, (code, _) in CASES.items()}
    ids = {path.name: case for case, path in paths.items()}

    def named_per_test(report: dict) -> dict:
        return {t["name"]: t["misconception"] for t in softmax_tests(report)}

    graded = api.grade(list(paths.values()), None, public_only=True, assignment="networks",
                       isolation="basic", accept_weak_isolation=True, discover=False)
    instructor = {ids[r.submission.id]: named_per_test(to_dict(r)) for r in graded.reports}
    in_bundle = {ids[r["submission"]["id"]]: named_per_test(r)
                 for r in graded_in_bundle(venv, tmp_path, paths.values(), "networks")}
    assert in_bundle == instructor
    for case, names in instructor.items():
        assert case.split(":")[-1] in names.values(), case
