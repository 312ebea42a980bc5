"""The guard: refusals raised into student code and recorded for the report.

An audit hook, installed last, just before the worker answers its first call. It is
evidence, not a wall: student code in the same process can reach it, and the kernel's
walls (bubblewrap, Landlock, the uid, seccomp) are what hold.
"""

from __future__ import annotations

import json
import os
import sys

# Refused whatever their arguments: new processes, signals to other processes, sockets,
# a second audit hook, the collector's views of every object (the way to reach this
# guard's own hook), changes of directory and links (which would let a path mean one
# thing when checked and another when used), and the environment children inherit.
REFUSED_EVENTS = frozenset((
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "resource.prlimit", "socket.__new__", "socket.connect", "socket.bind", "socket.sendto",
    "socket.sendmsg", "sys.addaudithook", "sys._current_frames", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "os.chdir", "os.symlink", "os.link", "os.putenv",
    "os.unsetenv"))
# Modules student code may not import, besides the grader's own: raw memory and native
# calls, and the module that creates processes without an audit event of its own.
GUARDED_MODULES = frozenset(("ctypes", "_ctypes", "_posixsubprocess"))
# The standard library's native modules student code may load: none of them reads files,
# starts processes or runs another interpreter behind the audit hook's back.
NATIVE_MODULES = frozenset((
    "_asyncio", "_bisect", "_blake2", "_bz2", "_codecs_cn", "_codecs_hk", "_codecs_iso2022",
    "_codecs_jp", "_codecs_kr", "_codecs_tw", "_contextvars", "_csv", "_datetime", "_decimal",
    "_elementtree", "_hashlib", "_heapq", "_json", "_lsprof", "_lzma", "_md5",
    "_multibytecodec", "_multiprocessing", "_opcode", "_pickle", "_queue", "_random", "_sha1",
    "_sha2", "_sha256", "_sha3", "_sha512", "_socket", "_statistics", "_struct", "_typing",
    "_uuid", "_zoneinfo", "array", "binascii", "cmath", "fcntl", "math", "mmap", "pyexpat",
    "resource", "select", "unicodedata", "zlib"))
# Events that change the filesystem: (positions of paths, positions of dir_fd arguments).
CHANGE_EVENTS = {
    "os.remove": ((0,), (1,)), "os.rmdir": ((0,), (1,)), "os.mkdir": ((0,), (2,)),
    "os.rename": ((0, 1), (2, 3)), "os.truncate": ((0,), ()), "os.chmod": ((0,), (2,)),
    "os.chown": ((0,), (3,)), "os.utime": ((0,), (3,)), "os.setxattr": ((0,), ()),
    "os.removexattr": ((0,), ()),
}
DEVICES = frozenset(("/dev/null/", "/dev/zero/", "/dev/random/", "/dev/urandom/", "/dev/full/"))


def install_guard(guard: dict, refusals: list) -> None:
    """An audit hook, installed before any student code runs, that refuses and records:
    imports of the grader's packages and of modules that reach past the hook; native
    modules from anywhere but the standard library and numpy; new processes, signals to
    others and sockets; reads outside the interpreter, numpy, this worker's folder and its
    own /proc entry; writes outside the worker's home; and the collector's views of all
    objects, through which the hook itself could be reached and changed.

    The hook keeps everything it uses in default arguments bound here (frozensets and C
    functions), so student code that patches os, os.path or builtins does not change what
    it checks. Evidence, not proof: a sandbox and the seccomp filter are the defence.

    ``guard`` names folders as the worker sees them: ``read`` (may be read), ``write``
    (may be written), ``numpy`` (readable, and native modules may load from them),
    ``native`` (where the standard library's native modules are), ``packages``
    (site-packages: unreadable but for numpy), ``hidden`` (never readable) and
    ``modules`` (never importable).
    """
    import _posixsubprocess
    import stat

    forbidden = frozenset(guard.get("modules", ())) | GUARDED_MODULES
    for name in list(sys.modules):
        # A module imported before the guard could otherwise be reached from sys.modules.
        if name.partition(".")[0] in forbidden and name != "_posixsubprocess":
            del sys.modules[name]

    def folders(key):
        return tuple(os.path.realpath(p).rstrip("/") + "/" for p in guard.get(key, ()))

    # The folder the worker's program was copied into (its own folder, or the zygote's).
    program = os.path.realpath(__file__)
    for _ in range(5):  # .../program/grader/sandbox/inside/guard.py
        program = os.path.dirname(program)
    numpy_dirs = folders("numpy")
    writable = folders("write")
    # The interpreter's own path (its zipped standard library too), as it is before any
    # student code can change it.
    search = tuple(os.path.realpath(p).rstrip("/") + "/" for p in sys.path if p)
    readable = folders("read") + writable + numpy_dirs + search + (
        program.rstrip("/") + "/", f"/proc/{os.getpid()}/", "/sys/")
    native = folders("native")

    def refuse(event, detail, _refusals=refusals, _len=len, _str=str, _exact=str.__str__,
               _error=PermissionError, _evidence=guard.get("evidence_fd"),
               _quote=json.encoder.encode_basestring_ascii, _write=os.write, _fail=Exception):
        try:
            detail = _exact(_str(detail))[:200]
        except _fail:  # a student object whose __str__ raises: the event is evidence enough
            detail = "(unprintable)"
        if _len(_refusals) < 50:
            _refusals.append({"event": event, "detail": detail})
        if _evidence is not None:
            # The record leaves the worker now, as one packet of at most 3.3 KB (ASCII
            # JSON), without waiting (the grader made the socket non-blocking): nothing
            # that runs later here can take it back. A full or closed socket loses only
            # the records not yet written.
            try:
                _write(_evidence, (f'{{"event":{_quote(event[:64])},'
                                   f'"detail":{_quote(detail)}}}\n').encode())
            except _fail:
                pass
        raise _error(f"refused by the grader's sandbox: {event} {detail}")

    def text(path, _str=str, _bytes=bytes, _type=type, _isinstance=isinstance):
        """A path argument as an exact str, whatever subclass it came as."""
        kind = _type(path)
        if kind is _str:
            return path
        if _isinstance(path, _str):
            return _str.__str__(path)
        if _isinstance(path, _bytes):
            return _bytes.decode(path, "utf-8", "surrogateescape")
        return None

    def resolve(path: str, _lstat=os.lstat, _readlink=os.readlink, _getcwd=os.getcwd,
                _islink=stat.S_ISLNK) -> str:
        """``path`` made absolute with every symlink followed, like os.path.realpath."""
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        done: list = []
        todo = path.split("/")[::-1]
        hops = 0
        while todo:
            part = todo.pop()
            if part == "" or part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/" + "/".join(done + [part])
            try:
                mode = _lstat(here).st_mode
            except OSError:
                done.append(part)
                continue
            if not _islink(mode):
                done.append(part)
                continue
            hops += 1
            if hops > 40:
                raise OSError(f"too many symbolic links in {path!r}")
            target = _readlink(here)
            if target.startswith("/"):
                done = []
            todo.extend(target.split("/")[::-1])
        return "/" + "/".join(done) + "/"

    def may_read(full, _hidden=folders("hidden"), _numpy=numpy_dirs,
                 _packages=folders("packages"), _readable=readable, _devices=DEVICES):
        if full.startswith(_hidden):
            return False
        if full.startswith(_numpy):
            return True
        if full.startswith(_packages):
            return False
        return full.startswith(_readable) or full in _devices

    def hook(event, args, _refused=REFUSED_EVENTS, _change=CHANGE_EVENTS, _forbidden=forbidden,
             _native_ok=NATIVE_MODULES, _native=native, _numpy=numpy_dirs, _writable=writable,
             _refuse=refuse, _text=text, _resolve=resolve, _may_read=may_read, _int=int,
             _type=type, _stat=os.stat, _isdir=stat.S_ISDIR, _devices=DEVICES,
             _write_flags=os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        if event == "open":
            path = args[0]
            if _type(path) is _int:
                return  # an open file descriptor: it was checked when it was opened
            name = _text(path)
            if name is None:
                _refuse(event, path)
            full = _resolve(name)
            flags = args[2] if _type(args[2]) is _int else _write_flags
            if flags & _write_flags:
                if not (full.startswith(_writable) or full in _devices):
                    _refuse(event, name)
            elif not _may_read(full):
                _refuse(event, name)
            try:
                directory = _isdir(_stat(full).st_mode)
            except OSError:
                directory = False
            if directory:  # a directory's descriptor would anchor paths the guard never sees
                _refuse(event, name)
        elif event == "os.listdir" or event == "os.scandir":
            path = args[0]
            if path is None:
                path = "."
            if _type(path) is _int:
                return
            name = _text(path)
            if name is None or not _may_read(_resolve(name)):
                _refuse(event, path)
        elif event == "import":
            module = _text(args[0]) or ""
            top = module.partition(".")[0]
            if top in _forbidden:
                _refuse(event, module)
            if args[1] is not None:  # a native module being loaded from a file
                name = _text(args[1])
                full = _resolve(name) if name is not None else ""
                if not (full.startswith(_numpy)
                        or (top in _native_ok and full.startswith(_native))):
                    _refuse(event, f"{module} from {name}")
        elif event in _refused or event.startswith("ctypes."):
            _refuse(event, args[0] if args else "")
        elif event in _change:
            paths, dir_fds = _change[event]
            for index in dir_fds:
                if args[index] != -1:
                    _refuse(event, args[0])
            for index in paths:
                path = args[index]
                if _type(path) is _int and event != "os.rename":
                    continue  # a descriptor: checked when opened
                name = _text(path)
                if name is None or not _resolve(name).startswith(_writable):
                    _refuse(event, path)

    def fork_exec(*args, _refuse=refuse):
        _refuse("_posixsubprocess.fork_exec", args[0] if args else "")

    # Imported (and so never imported again through the hook) with its one function that
    # starts processes without an audit event replaced by a refusal.
    _posixsubprocess.fork_exec = fork_exec
    sys.addaudithook(hook)
