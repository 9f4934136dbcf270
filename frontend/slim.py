# acai's slimming ([runtime] slim). It runs an install step's command line, then removes
# from what that install added to the dependency directory what no program loads at run
# time: the packages' test suites (tests/ and test/ directories inside them, with their
# bytecode), C/C++ headers and sources, Cython sources, type stubs and static archives;
# and it drops from shared objects the symbol table and debug information that the
# loader does not use (what strip --strip-unneeded removes from them, as Alpine's and
# Debian's package builds do; done here in Python, so that the builder needs no binutils
# and a cross build's objects are stripped too). What the install step writes is slim
# already, so the removed bytes never reach a layer.
#
# Then it byte-compiles the Python files the install added and that stay, as the
# installer's own compile would (uv's --compile-bytecode, pip's default: one .pyc per
# file, py_compile's invalidation mode, checked hashes with SOURCE_DATE_EPOCH), which the
# step tells the installer not to do: the test suites it removes, three quarters of the
# Python files of a data-science set, are never compiled.
#
# Usage: python slim.py DEPS_DIR KEEP_FILE -- COMMAND...
# KEEP_FILE lists globs (relative to site-packages, or the Lambda task root) that stay:
# acai's own knowledge (slim-keep.txt) and the Acaifile's [runtime] keep.
# What was there before the install is never touched: a step slims its own packages.
import compileall
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
    slimmer = Slimmer(deps, before, [k for k in keep if k])
    slimmer.run()
    byte_compile([f for root in slimmer.roots for f in new_python_files(root, before)])
    return 0


def new_python_files(root, before):
    out = []
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            full = os.path.join(dirpath, n)
            if n.endswith(".py") and full not in before:
                out.append(full)
    return sorted(out)


def compile_file(path):
    # As uv's and pip's compile: a file that does not compile (vendored Python 2 code)
    # stays without bytecode, silently.
    return compileall.compile_file(path, quiet=2, legacy=False)


def byte_compile(files):
    if len(files) < 100:
        for f in files:
            compile_file(f)
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(compile_file, files, chunksize=16))
    if files:
        print("acai slim: byte-compiled %d files" % len(files))


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
        """Drops the symbol table and debug information from the shared objects the
        install added (strip_elf), on any architecture: a cross build's too."""
        todo = []
        for dirpath, dirnames, filenames in os.walk(self.deps):
            dirnames[:] = [d for d in dirnames if not d.endswith(".dist-info")]
            for n in filenames:
                full = os.path.join(dirpath, n)
                if not (n.endswith(".so") or ".so." in n) or os.path.islink(full) or full in self.before:
                    continue
                why = self.kept_by_pattern(self.rel(full))
                if why:
                    self.kept_by[why] = self.kept_by.get(why, 0) + 1
                    continue
                todo.append(full)
        stripped = 0
        for f in todo:
            saved = strip_elf(f)
            if saved is None:
                continue
            if saved < 0:
                self.kept.append("the symbols of %s (its layout is not one acai strips safely)" % self.rel(f))
                continue
            self.removed["symbols"] = self.removed.get("symbols", 0) + saved
            stripped += 1
        return stripped

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


# ELF constants (the System V gABI).
SHF_ALLOC, SHT_SYMTAB, SHT_NOBITS, SHT_RELA, SHT_REL, PT_LOAD = 0x2, 2, 8, 4, 9, 1


def strip_elf(path):
    """Removes the static symbol table (.symtab and its string table) and the debug
    sections (.debug_*) of a shared object: what strip --strip-unneeded removes from a
    linked one. Their section headers become empty ones, so no section index changes
    (the dynamic symbols name sections by index), and their bytes leave the file. What
    follows them moves back by a multiple of the largest segment alignment, so that
    every segment keeps its offset congruent to its address: the loader maps them as
    before. (GNU strip moves segments freely, which misaligns the extra segments that
    patchelf, as auditwheel runs it, adds to a wheel's libraries.) The bytes saved; None
    when there is nothing to remove or the file is not a shared object; -1 when its
    layout is not one this handles, and it stays as it was."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    e = "<" if data[5] == 1 else ">"
    wide = data[4] == 2
    if wide:
        hdr = {"phoff": (0x20, "Q"), "shoff": (0x28, "Q"), "shnum": (0x3C, "H")}
        ehsize, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHHH", data, 0x34)
        sh_fmt, ph_fmt, ph_off, ph_addr, ph_size, ph_align = e + "IIQQQQIIQQ", e + "IIQQQQQQ", 2, 3, 5, 7
    else:
        hdr = {"phoff": (0x1C, "I"), "shoff": (0x20, "I"), "shnum": (0x30, "H")}
        ehsize, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHHH", data, 0x28)
        sh_fmt, ph_fmt, ph_off, ph_addr, ph_size, ph_align = e + "IIIIIIIIII", e + "IIIIIIII", 1, 2, 4, 7
    phoff = struct.unpack_from(e + hdr["phoff"][1], data, hdr["phoff"][0])[0]
    shoff = struct.unpack_from(e + hdr["shoff"][1], data, hdr["shoff"][0])[0]
    if struct.unpack_from(e + "H", data, 0x10)[0] != 3 or shoff == 0 or shnum == 0 or shstrndx >= shnum:
        return None  # not a shared object, or extended section numbering
    try:
        sections = [list(struct.unpack_from(sh_fmt, data, shoff + i * shentsize)) for i in range(shnum)]
        phdrs = [list(struct.unpack_from(ph_fmt, data, phoff + i * phentsize)) for i in range(phnum)]
    except struct.error:
        return -1
    # a section header: name, type, flags, addr, offset, size, link, info, addralign, entsize
    names = sections[shstrndx]
    strtab = data[names[4]:names[4] + names[5]]

    def name(sh):
        end = strtab.find(b"\0", sh[0])
        return strtab[sh[0]:end if end >= 0 else len(strtab)]

    remove = set()
    for i, sh in enumerate(sections):
        if sh[2] & SHF_ALLOC or i == 0:
            continue
        if sh[1] == SHT_SYMTAB:
            remove.add(i)
            link = sh[6]
            if 0 < link < shnum and link != shstrndx and not sections[link][2] & SHF_ALLOC and sections[link][1] == 3:
                remove.add(link)  # its string table (SHT_STRTAB)
        elif name(sh).startswith((b".debug", b".zdebug")):
            remove.add(i)
    if not remove:
        return None
    for i, sh in enumerate(sections):
        if i not in remove and (sh[6] in remove or (sh[1] in (SHT_REL, SHT_RELA) and sh[7] in remove)):
            return -1  # something kept refers to what would go
    # What stays where it is: the file's header, the program headers and every segment's
    # bytes. Sections outside the segments (.comment, .shstrtab) move to the end, after
    # the segments, with the section header table. The rest is free: the removed
    # sections, the old section header table, padding.
    pinned = [(0, ehsize), (phoff, phoff + phnum * phentsize)]
    pinned += [(ph[ph_off], ph[ph_off] + ph[ph_size]) for ph in phdrs if ph[ph_size]]
    movable = []
    for i, sh in enumerate(sections):
        if not i or i in remove or sh[1] == SHT_NOBITS or not sh[5]:
            continue
        lo, hi = sh[4], sh[4] + sh[5]
        if any(a <= lo and hi <= b for a, b in pinned):
            continue
        if any(a < hi and lo < b for a, b in pinned) or sh[2] & SHF_ALLOC:
            return -1  # across a segment's edge, or loaded without a segment
        movable.append(i)
    for i in remove:
        sh = sections[i]
        if sh[1] != SHT_NOBITS and any(a < sh[4] + sh[5] and sh[4] < b for a, b in pinned):
            return -1  # inside a segment: the loader maps it
    pinned.sort()
    free, at = [], 0
    for a, b in pinned:
        if a > at:
            free.append((at, a))
        at = max(at, b)
    if at < len(data):
        free.append((at, len(data)))
    align = max([ph[ph_align] for ph in phdrs if ph[0] == PT_LOAD and ph[ph_align] > 1] + [1])
    # Each free range gives up a multiple of the alignment (all of it at the end), so
    # that what follows keeps its offset congruent to its address; what remains is zeros.
    cuts = [(a, b - a if b == len(data) else (b - a) // align * align, b) for a, b in free]

    def moved(offset):
        delta = 0
        for start, cut, _ in cuts:
            if offset >= start + cut:
                delta += cut
            elif offset > start:
                return start - delta
        return offset - delta

    out, at = bytearray(), 0
    for start, cut, end in cuts:
        out += data[at:start]
        out += bytes(end - start - cut)
        at = end
    out += data[at:]
    for i in movable:
        sh = sections[i]
        out += bytes(-len(out) % max(sh[8], 1))
        body = data[sh[4]:sh[4] + sh[5]]
        sh[4] = len(out)
        out += body
    for ph in phdrs:
        ph[ph_off] = moved(ph[ph_off])
        if ph[0] == PT_LOAD and ph[ph_align] > 1 and (ph[ph_off] - ph[ph_addr]) % ph[ph_align]:
            return -1  # cannot happen: every cut is a multiple of the alignment
    new_phoff = moved(phoff)
    for i, ph in enumerate(phdrs):
        struct.pack_into(ph_fmt, out, new_phoff + i * phentsize, *ph)
    for i, sh in enumerate(sections):
        if i in remove:
            sections[i] = [0] * 10
        elif i and i not in movable:
            sh[4] = moved(sh[4])
    out += bytes(-len(out) % (8 if wide else 4))
    new_shoff = len(out)
    for sh in sections:
        out += struct.pack(sh_fmt, *sh) + bytes(shentsize - struct.calcsize(sh_fmt))
    struct.pack_into(e + hdr["phoff"][1], out, hdr["phoff"][0], new_phoff)
    struct.pack_into(e + hdr["shoff"][1], out, hdr["shoff"][0], new_shoff)
    if len(out) >= len(data):
        return None
    tmp = path + ".acai-strip"
    with open(tmp, "wb") as f:
        f.write(out)
    st = os.stat(path)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, path)
    return len(data) - len(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
