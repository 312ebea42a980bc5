# Fills the disk from its home, 104 files of 16 MiB (each within the file-size limit),
# 1.6 GiB in all, and says in graph_backward's error how much it managed to write.

_CHUNK = b"d" * (1 << 20)


def _fill():
    written = 0
    try:
        for n in range(104):
            with open("fill-%03d" % n, "wb") as stream:
                for _ in range(16):
                    stream.write(_CHUNK)
                    written += len(_CHUNK)
    except OSError:
        pass
    return written


_WRITTEN = _fill()


def graph_backward(x):
    raise ValueError("wrote %d bytes" % _WRITTEN)
