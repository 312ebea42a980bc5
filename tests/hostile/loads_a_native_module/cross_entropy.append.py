# Copies a native module into its home folder under a new name and imports it: native
# code would run behind the audit hook's back. Honest answers otherwise.
import glob
import os
import sys
import sysconfig


def _plant():
    try:
        source = glob.glob(os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload",
                                        "_json*.so"))[0]
        with open(source, "rb") as stream:
            data = stream.read()
        target = os.path.join(os.getcwd(), "planted" + source[source.index(".cpython"):])
        with open(target, "wb") as stream:
            stream.write(data)
        sys.path.insert(0, os.getcwd())
        import planted  # noqa: F401
    except BaseException:
        pass


_plant()
