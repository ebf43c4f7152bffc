"""mcpfuzz coverage bridge for Python targets (sitecustomize.py, standard library only).

mcpfuzz writes this file into a temporary directory and prepends that directory to the
target's PYTHONPATH, so Python's `site` module imports it at startup, before the target's
own code runs.

Contract with the fuzzer (the Rust side implements the other half):

  MCPFUZZ_COV_MAP      path of an existing file of at least MCPFUZZ_COV_SIZE bytes that the
                       fuzzer has mmapped MAP_SHARED (in practice /proc/<fuzzer pid>/fd/<n>
                       of a memfd; /proc/self/fd/<n> of an inherited fd works as well).
                       Unset or empty: this file does nothing except chaining (below).
  MCPFUZZ_COV_SIZE     map size in bytes, a power of two (default 65536).
  MCPFUZZ_COV_INCLUDE  optional, os.pathsep-separated path prefixes: when set, only code
                       whose file lies under one of them is traced.
  MCPFUZZ_COV_EXCLUDE  optional, os.pathsep-separated path prefixes never traced.

  An edge is recorded by storing the byte 1 at its index (one plain byte store, never a
  read-modify-write, never a reset). The fuzzer zeroes the map before each input and reads
  it once the server has answered the input's final ping. The few lines the server runs
  after writing that reply (back to its read loop) race with the read; waiting until no
  thread of the target is running (/proc/<pid>/task/*/stat state other than R) closes
  the race for the cost of a few microseconds.

  Edge index (Python 3.11 and older, sys.settrace + threading.settrace):
      base = zlib.crc32(co_filename)                      (cached per code object)
      cur  = (base + lineno * 0x9E3779B1) & (size - 1)    (odd multiplier: distinct lines
                                                           of one file get distinct values)
      index = cur ^ prev;  prev = cur >> 1                (prev is per frame, 0 at entry)
  Python 3.12+ uses sys.monitoring (a free tool id, LINE events enabled per code object)
  with the same formula, prev being process-wide instead of per frame.

  Never traced: the standard library (sysconfig 'stdlib' and 'platstdlib' paths and the
  zipped stdlib, except anything under a site-packages or dist-packages directory),
  frozen modules and other pseudo files whose name starts with '<' ('<string>',
  '<frozen os>', '<stdin>'), and this file. site-packages is traced (servers are often
  installed packages) unless MCPFUZZ_COV_EXCLUDE says otherwise. MCPFUZZ_COV_INCLUDE does
  not bring the standard library back.

  Nothing is ever written to stdout (the JSON-RPC channel). On an error (map missing, too
  small, bad size, ...) one line starting with 'mcpfuzz-coverage:' goes to stderr and the
  target runs untraced.

Chaining: whatever happens above, the `sitecustomize` module that Python would have
imported had this file not been first on the path (the next one on sys.path after this
file's directory) is found and executed, then takes this module's place in sys.modules.
It runs before tracing starts, so a tracer it installs is replaced by ours on 3.11.
"""


def _mcpfuzz_warn(message):
    import sys

    try:
        stream = sys.stderr
        if stream is not None:
            stream.write("mcpfuzz-coverage: %s\n" % message)
            stream.flush()
    except Exception:
        pass


def _mcpfuzz_chain():
    """Finds the next `sitecustomize` on sys.path after this file's directory and runs it."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.realpath(__file__))
    entries = []
    found_self = False
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        try:
            real = os.path.realpath(entry or os.curdir)
        except Exception:
            real = entry
        if real == here:
            if not found_self:
                found_self = True
                entries = []  # only what comes after our directory counts
            continue
        entries.append(entry)
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", entries)
    if spec is None or spec.loader is None:
        return
    ours = sys.modules.get("sitecustomize")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        # What site.py itself would have said had that module been imported directly.
        if ours is not None:
            sys.modules["sitecustomize"] = ours
        else:
            sys.modules.pop("sitecustomize", None)
        if sys.flags.verbose:
            sys.excepthook(*sys.exc_info())
        else:
            sys.stderr.write(
                "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                "%s: %s\n" % (err.__class__.__name__, err)
            )


def _mcpfuzz_open_map(path):
    import mmap
    import os

    text = os.environ.get("MCPFUZZ_COV_SIZE", "").strip()
    size = int(text) if text else 65536
    if size <= 0 or size & (size - 1):
        raise ValueError("MCPFUZZ_COV_SIZE must be a power of two, not %r" % text)
    fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:
        have = os.fstat(fd).st_size
        if have < size:
            raise ValueError("map %s has %d bytes, MCPFUZZ_COV_SIZE is %d" % (path, have, size))
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    return mm, size


def _mcpfuzz_filter():
    """Returns keep(filename) -> bool, the per-file decision (callers cache it)."""
    import os
    import sys
    import sysconfig

    sep = os.sep

    def prefixes(values):
        out = set()
        for value in values:
            if not value:
                continue
            for p in (os.path.abspath(value), os.path.realpath(value)):
                out.add(p if p.endswith(sep) else p + sep)
        return tuple(out)

    def env_list(name):
        return [p for p in os.environ.get(name, "").split(os.pathsep) if p.strip()]

    stdlib_dirs = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
    for base in {sys.base_prefix, sys.base_exec_prefix}:
        # the zipped stdlib, e.g. lib/python311.zip
        stdlib_dirs.append(
            os.path.join(base, "lib", "python%d%d.zip" % sys.version_info[:2])
        )
    stdlib = prefixes(stdlib_dirs)
    include = prefixes(env_list("MCPFUZZ_COV_INCLUDE"))
    exclude = prefixes(env_list("MCPFUZZ_COV_EXCLUDE"))
    own = {os.path.abspath(__file__), os.path.realpath(__file__)}
    packages = (sep + "site-packages" + sep, sep + "dist-packages" + sep)

    def under(names, prefixes_):
        for name in names:
            for p in prefixes_:
                if name.startswith(p) or name + sep == p:
                    return True
        return False

    def keep(filename):
        if not filename or filename[0] == "<":
            return False  # <string>, <frozen ...>, <stdin>, <doctest ...>
        full = os.path.abspath(filename)
        real = os.path.realpath(full)
        names = (full,) if real == full else (full, real)
        if full in own or real in own:
            return False
        if include and not under(names, include):
            return False
        if exclude and under(names, exclude):
            return False
        if under(names, stdlib) and not any(p in n for n in names for p in packages):
            return False
        return True

    return keep


def _mcpfuzz_start():
    import os
    import sys
    import zlib

    path = os.environ.get("MCPFUZZ_COV_MAP", "")
    if not path:
        return
    try:
        mm, size = _mcpfuzz_open_map(path)
        keep = _mcpfuzz_filter()
    except Exception as err:
        _mcpfuzz_warn("coverage off: %s" % (err,))
        return
    mask = size - 1
    mult = 0x9E3779B1
    files = {}  # co_filename -> crc32 base, or None when filtered out
    codes = {}  # id(code) -> (code, base or None); holding the code keeps its id unique
    limit = 200000  # bounds both caches for targets that compile code at run time

    def learn(code):
        filename = code.co_filename
        try:
            base = files[filename]
        except KeyError:
            try:
                ok = keep(filename)
            except Exception:
                ok = False
            base = zlib.crc32(filename.encode("utf-8", "surrogateescape")) if ok else None
            if len(files) >= limit:
                files.clear()
            files[filename] = base
        if len(codes) >= limit:
            codes.clear()
        codes[id(code)] = (code, base)
        return base

    if sys.version_info >= (3, 12) and hasattr(sys, "monitoring"):
        _mcpfuzz_monitor(mm, mask, mult, codes, learn)
        return

    import threading

    def global_trace(frame, event, arg):
        code = frame.f_code
        hit = codes.get(id(code))
        base = hit[1] if hit is not None else learn(code)
        if base is None:
            return None
        prev = 0

        def local_trace(frame, event, arg):
            nonlocal prev
            try:  # zero-cost unless f_lineno is None: an error here would reach the target
                cur = (base + frame.f_lineno * mult) & mask
            except TypeError:
                return local_trace
            mm[cur ^ prev] = 1
            prev = cur >> 1
            return local_trace

        return local_trace

    threading.settrace(global_trace)
    sys.settrace(global_trace)


def _mcpfuzz_monitor(mm, mask, mult, codes, learn):
    """Python 3.12+: sys.monitoring, LINE events switched on per kept code object."""
    import sys

    mon = sys.monitoring
    tool = None
    for candidate in (3, 4, mon.COVERAGE_ID, mon.PROFILER_ID, mon.OPTIMIZER_ID):
        if mon.get_tool(candidate) is None:
            mon.use_tool_id(candidate, "mcpfuzz")
            tool = candidate
            break
    if tool is None:
        _mcpfuzz_warn("coverage off: no free sys.monitoring tool id")
        return
    events = mon.events
    DISABLE = mon.DISABLE
    prev = 0

    def on_start(code, offset):
        hit = codes.get(id(code))
        base = hit[1] if hit is not None else learn(code)
        if base is not None:
            try:
                mon.set_local_events(tool, code, events.LINE)
            except Exception:
                pass
        return DISABLE  # decided once per code object

    def on_line(code, line):
        nonlocal prev
        hit = codes.get(id(code))
        base = hit[1] if hit is not None else learn(code)  # None: the cache was cleared
        if base is None:
            return DISABLE
        cur = (base + line * mult) & mask
        mm[cur ^ prev] = 1
        prev = cur >> 1

    mon.register_callback(tool, events.PY_START, on_start)
    mon.register_callback(tool, events.LINE, on_line)
    mon.set_events(tool, events.PY_START)


try:
    _mcpfuzz_chain()
except Exception as _mcpfuzz_err:
    _mcpfuzz_warn("could not chain to the next sitecustomize: %s" % (_mcpfuzz_err,))
try:
    _mcpfuzz_start()
except Exception as _mcpfuzz_err:
    _mcpfuzz_warn("coverage off: %s" % (_mcpfuzz_err,))
