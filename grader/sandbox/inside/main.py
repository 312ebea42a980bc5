"""The worker's program: ``python -I -S <copy>/grader/sandbox/inside/main.py CONFIG``.

The grader copies ``grader/sandbox/inside`` and ``grader/sandbox/wire.py`` (standard
library only) into the worker's folder and starts this file in a fresh interpreter: it
becomes a zygote or a worker, as CONFIG says, or with ``--probe-seccomp``,
``--probe-landlock`` or ``--probe-quota`` says whether this machine can build that wall.
"""

import json
import os
import sys

# -I leaves the script's folder off the path: the folder that holds the copy of grader/
# goes on it for these imports only, so student code sees the path it always saw.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
from grader.sandbox.inside import contain, serve, walls, zygote  # noqa: E402

del sys.path[0]


def main(argv: list[str]) -> int:
    if argv[1:] == ["--probe-seccomp"]:
        return contain.probe_seccomp()
    if argv[1:] == ["--probe-landlock"]:
        return walls.probe_landlock()
    if argv[1:] == ["--probe-quota"]:
        return walls.probe_quota()
    with open(argv[1], encoding="utf-8") as stream:
        config = json.load(stream)
    if config.get("mode") == "zygote":
        return zygote.zygote(config)
    rfd, wfd = config["fds"]
    return serve.run_worker(config, rfd, wfd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
