# Replaces the stderr file in its worker's folder with a FIFO (a grader that opens that
# path to quote the worker's stderr would wait in open() forever, and follow a symlink
# anywhere on the host), then exits so that the grader looks. The guard refuses the
# removal; whatever it manages, a grader that reads stderr only through its own
# descriptor never notices. Both chain_rule functions do it: all 10 points are lost.
import os


def _swap_and_exit():
    folder = os.path.dirname(os.getcwd())
    target = os.path.join(folder, "stderr.log")
    for attempt in (lambda: os.remove(target), lambda: os.mkfifo(target),
                    lambda: os.symlink("/etc/passwd", target + ".link")):
        try:
            attempt()
        except BaseException:
            pass
    os.write(2, b"stderr swapped for a FIFO\n")
    os._exit(3)


def graph_forward(x):
    _swap_and_exit()


def graph_backward(x):
    _swap_and_exit()
