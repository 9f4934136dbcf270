# acai's slimming ([runtime] slim). It runs an install step's command line, then removes
# from what that install added to the dependency directory what no program loads at run
# time: the packages' test suites (tests/ and test/ directories inside them, with their
# bytecode), C/C++ headers, Cython sources, type stubs and static archives; and it strips
# the symbol tables that the loader does not use from shared objects (strip
# --strip-unneeded, as Alpine's and Debian's package builds do). What the install step
# writes is slim already, so the removed bytes never reach a layer.
#
# Usage: python slim.py DEPS_DIR KEEP_FILE -- COMMAND...
# KEEP_FILE lists globs (relative to site-packages, or the Lambda task root) that stay:
# acai's own knowledge (slim-keep.txt) and the Acaifile's [runtime] keep.
# What was there before the install is never touched: a step slims its own packages.
import concurrent.futures
import fnmatch
import os
import re
import shutil
import struct
import subprocess
import sys

TEST_DIRS = {"tests", "test"}
SUFFIXES = {
    ".h": "headers", ".hh": "headers", ".hpp": "headers", ".hxx": "headers",
    ".pyx": "Cython sources", ".pxd": "Cython sources", ".pxi": "Cython sources",
    ".c": "C sources", ".cc": "C sources", ".cpp": "C sources", ".cxx": "C sources",
    ".pyi": "type stubs", ".a": "static archives",
}
# Files of a test suite that an import scan must not count: pytest reads them, no program does.
TEST_INFRA = re.compile(r"^(conftest\.py|test_.*\.py|.*_test\.py)$")


def main(argv):
    deps, keep_file, sep = argv[1], argv[2], argv[3]
    assert sep == "--", "usage: slim.py DEPS_DIR KEEP_FILE -- COMMAND..."
    before = listing(deps)
    rc = subprocess.call(argv[4:])
    if rc != 0:
        return rc
    with open(keep_file) as f:
        keep = [l.split("#")[0].strip() for l in f]
    Slimmer(deps, before, [k for k in keep if k]).run()
    return 0


def listing(root):
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.join(dirpath, n))
    return out


def site_roots(deps):
    """The directories packages are imported from: the venv's site-packages, or the
    Lambda task root itself."""
    lib = os.path.join(deps, "lib")
    roots = []
    if os.path.isdir(lib):
        for py in sorted(os.listdir(lib)):
            sp = os.path.join(lib, py, "site-packages")
            if os.path.isdir(sp):
                roots.append(sp)
    return roots or [deps]


def size(path):
    if os.path.islink(path) or not os.path.isdir(path):
        return os.lstat(path).st_size
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for n in filenames:
            total += os.lstat(os.path.join(dirpath, n)).st_size
    return total


def mb(n):
    return "%.1f MB" % (n / 1e6) if n >= 100e3 else "%d KB" % -(-n // 1000)


class Slimmer:
    def __init__(self, deps, before, keep):
        self.deps, self.before, self.keep = deps, before, keep
        self.removed = {}  # category -> bytes
        self.kept = []  # why each kept test suite or shared object stays
        self.kept_by = {}  # keep glob -> files it kept
        self.roots = site_roots(deps)

    def rel(self, path):
        """path relative to the site-packages (or task root) it is in, as keep globs are."""
        for root in self.roots:
            if path.startswith(root + "/"):
                return os.path.relpath(path, root)
        return os.path.relpath(path, self.deps)

    def kept_by_pattern(self, rel):
        """rel stays when a keep glob names it, a directory above it, or something inside it."""
        parts = rel.split("/")
        for pat in self.keep:
            pat = pat.rstrip("/")
            for i in range(1, len(parts) + 1):
                if fnmatch.fnmatchcase("/".join(parts[:i]), pat):
                    return pat
            if pat.startswith(rel + "/"):
                return pat
        return None

    def run(self):
        for root in self.roots:
            self.slim_root(root)
        # Headers a package installs beside site-packages (the venv's include/).
        include = os.path.join(self.deps, "include")
        if os.path.isdir(include) and self.roots != [self.deps]:
            self.remove_files(include)
        stripped = self.strip()
        self.report(stripped)

    def slim_root(self, root):
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            rel_dir = "" if rel_dir == "." else rel_dir
            # A distribution's metadata stays whole.
            dirnames[:] = [d for d in dirnames if not d.endswith(".dist-info")]
            for d in list(dirnames):
                full = os.path.join(dirpath, d)
                if d in TEST_DIRS and full not in self.before and self.removable_tests(root, rel_dir, d):
                    self.remove(full, "tests")
                    dirnames.remove(d)
            for n in filenames:
                full = os.path.join(dirpath, n)
                what = SUFFIXES.get(os.path.splitext(n)[1])
                if what and full not in self.before and not os.path.islink(full):
                    why = self.kept_by_pattern(os.path.join(rel_dir, n))
                    if why:
                        self.kept_by[why] = self.kept_by.get(why, 0) + 1
                    else:
                        self.remove(full, what)

    def remove_files(self, top):
        for dirpath, _, filenames in os.walk(top):
            for n in filenames:
                what = SUFFIXES.get(os.path.splitext(n)[1])
                full = os.path.join(dirpath, n)
                if what and full not in self.before:
                    self.remove(full, what)

    def removable_tests(self, root, rel_dir, name):
        rel = os.path.join(rel_dir, name)
        why = self.kept_by_pattern(rel)
        if why:
            self.kept_by[why] = self.kept_by.get(why, 0) + 1
            return False
        importer = self.importer(root, rel_dir, name)
        if importer:
            self.kept.append("%s (imported by %s)" % (rel, importer))
            return False
        return True

    def importer(self, root, rel_dir, name):
        """A file of the package, outside its test suites, that imports the tests
        directory rel_dir/name: then the package needs it at run time (django.test)."""
        if not rel_dir:
            return None  # a top-level tests package belongs to no distribution's API
        top = rel_dir.split("/")[0]
        module = (rel_dir + "/" + name).replace("/", ".")
        absolute = re.compile(r"(?<![\w.])" + re.escape(module) + r"(?![\w])")
        relative = re.compile(r"^\s*from\s+\.(\s+import\s+[^\n]*\b" + re.escape(name) + r"\b|" + re.escape(name) + r"\b)", re.M)
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if d not in TEST_DIRS]
            here = os.path.relpath(dirpath, root)
            for n in filenames:
                if not n.endswith(".py") or TEST_INFRA.match(n):
                    continue
                try:
                    with open(os.path.join(dirpath, n), encoding="utf-8", errors="replace") as f:
                        text = f.read()
                except OSError:
                    continue
                if absolute.search(text) or (here == rel_dir and relative.search(text)):
                    return os.path.join(here, n)
        return None

    def remove(self, path, what):
        self.removed[what] = self.removed.get(what, 0) + size(path)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)

    def strip(self):
        """Strips the shared objects the install added, those of the build platform's
        architecture (its strip reads no other). Executables are left alone: some carry
        data after their sections, which strip would drop."""
        machine = elf_machine(os.path.realpath(sys.executable))
        todo, foreign = [], 0
        for dirpath, dirnames, filenames in os.walk(self.deps):
            dirnames[:] = [d for d in dirnames if not d.endswith(".dist-info")]
            for n in filenames:
                full = os.path.join(dirpath, n)
                if not (n.endswith(".so") or ".so." in n) or os.path.islink(full) or full in self.before:
                    continue
                info = elf_info(full)
                if info is None or not info[1]:
                    continue
                if info[0] != machine:
                    foreign += 1
                    continue
                why = self.kept_by_pattern(self.rel(full))
                if why:
                    self.kept_by[why] = self.kept_by.get(why, 0) + 1
                    continue
                todo.append(full)
        if foreign:
            print("acai slim: %d shared objects of another architecture keep their symbols (the build platform's strip reads its own)" % foreign)
        if not todo:
            return 0
        strip = shutil.which("strip")
        if strip is None:
            print("acai slim: no strip in the builder (Alpine's binutils): %d shared objects keep their symbols" % len(todo))
            return 0
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            results = list(pool.map(lambda f: strip_one(strip, f), todo))
        misaligned = [self.rel(f) for f, r in zip(todo, results) if r is None]
        for f in misaligned:
            self.kept.append("the symbols of %s (stripped, its segments would not load: patchelf rewrote it)" % f)
        self.removed["symbols"] = sum(r for r in results if r)
        return len(todo) - len(misaligned)

    def report(self, stripped):
        order = ["tests", "headers", "C sources", "Cython sources", "type stubs", "static archives", "symbols"]
        parts = ["%s %s" % (k, mb(self.removed[k])) for k in order if self.removed.get(k)]
        for k in self.kept:
            print("acai slim: kept " + k)
        for pat, n in sorted(self.kept_by.items()):
            print("acai slim: kept %d paths by keep glob %s" % (n, pat))
        if parts:
            total = sum(self.removed.values())
            extra = " (%d shared objects stripped)" % stripped if stripped else ""
            print("acai slim: %s removed: %s%s" % (mb(total), ", ".join(parts), extra))
        else:
            print("acai slim: nothing to remove")


def strip_one(strip, path):
    """Strips path in place; the bytes saved, or None when the stripped file would not
    load and path stays as it was. strip moves the segments of some libraries that
    patchelf rewrote (auditwheel's, in *.libs/) off their page alignment."""
    out = path + ".acai-strip"
    try:
        if subprocess.call([strip, "--strip-unneeded", "-p", "-o", out, path]) != 0:
            raise SystemExit("acai slim: strip --strip-unneeded failed on %s (above); [runtime] keep = [\"%s\"] keeps it as it is" % (path, path))
        if not segments_aligned(out) and segments_aligned(path):
            return None
        saved = os.lstat(path).st_size - os.lstat(out).st_size
        os.chmod(out, os.lstat(path).st_mode & 0o7777)
        os.replace(out, path)
        return saved
    finally:
        if os.path.exists(out):
            os.remove(out)


def segments_aligned(path):
    """Whether each loadable segment's file offset and address agree modulo its
    alignment, which the dynamic loader requires ("ELF load command address/offset not
    page-aligned")."""
    with open(path, "rb") as f:
        h = f.read(64)
        e = "<" if h[5] == 1 else ">"
        if h[4] == 2:
            phoff, = struct.unpack(e + "Q", h[32:40])
            phentsize, phnum = struct.unpack(e + "HH", h[54:58])
            fmt, fields = e + "IIQQQQQQ", (0, 2, 3, 7)
        else:
            phoff, = struct.unpack(e + "I", h[28:32])
            phentsize, phnum = struct.unpack(e + "HH", h[42:46])
            fmt, fields = e + "IIIIIIII", (0, 1, 2, 7)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        ph = struct.unpack_from(fmt, table, i * phentsize)
        kind, offset, vaddr, align = (ph[j] for j in fields)
        if kind == 1 and align > 1 and (offset - vaddr) % align:  # PT_LOAD
            return False
    return True


def elf_machine(path):
    info = elf_info(path)
    return info[0] if info else None


def elf_info(path):
    """(e_machine, has a symbol table or debug sections) of an ELF file; None otherwise."""
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if len(h) < 64 or h[:4] != b"\x7fELF":
                return None
            e = "<" if h[5] == 1 else ">"
            machine = struct.unpack(e + "H", h[18:20])[0]
            if h[4] == 2:
                shoff, = struct.unpack(e + "Q", h[40:48])
                shentsize, shnum, shstrndx = struct.unpack(e + "HHH", h[58:64])
            else:
                shoff, = struct.unpack(e + "I", h[32:36])
                shentsize, shnum, shstrndx = struct.unpack(e + "HHH", h[46:52])
            if shoff == 0 or shnum == 0:
                return machine, False
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            fmt = e + ("IIQQQQIIQQ" if h[4] == 2 else "IIIIIIIIII")
            sections = [struct.unpack_from(fmt, table, i * shentsize) for i in range(shnum)]
            names_off, names_size = sections[shstrndx][4], sections[shstrndx][5]
            f.seek(names_off)
            names = f.read(names_size)
            for s in sections:
                name = names[s[0]:names.index(b"\0", s[0])]
                if s[1] == 2 or name.startswith(b".debug"):  # SHT_SYMTAB
                    return machine, True
            return machine, False
    except (OSError, struct.error, ValueError, IndexError):
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
