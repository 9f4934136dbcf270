#!/usr/bin/env python3
"""Fetches the files of integration/pypi/pypi.lock into a cache directory, once.

   python3 hack/pypi_fetch.py CACHE_DIR [--only TARGET PROJECT...]

With --only, just the files of those projects for that target of the lock (e.g.
`--only standin cowsay uv pip`: what the quickstart's example needs).

Every file is checked against the lock's sha256. A file already in the cache with the
right hash is not downloaded again; one with another hash (altered or truncated) is an
error naming its lock entry, as is a file the index no longer serves. Downloads go to
the package index the host's pip uses (PIP_INDEX_URL, else pip's default), with the
host's certificates: build containers never reach the internet.
"""
import concurrent.futures
import hashlib
import json
import os
import sys
import tomllib
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = os.path.join(ROOT, "integration/pypi/pypi.lock")


def index_url():
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        from pip._internal.models.index import PyPI
        url = PyPI.simple_url
    return url.rstrip("/")


_pages = {}


def project_files(project):
    if project not in _pages:
        req = urllib.request.Request(f"{index_url()}/{project}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            _pages[project] = json.load(r)["files"]
    return _pages[project]


def find(project, filename):
    for f in project_files(project):
        if f["filename"] == filename:
            return f["url"], f["hashes"].get("sha256")
    return None, None


def find_sdist(name, version):
    project = name.lower().replace("_", "-").replace(".", "-")
    for f in project_files(project):
        fn = f["filename"]
        if fn.endswith(".tar.gz") and fn.lower().replace("_", "-").startswith(f"{project}-{version}.tar.gz".replace("_", "-")):
            return fn, f["url"], f["hashes"]["sha256"]
    raise SystemExit(f"no sdist of {name}=={version} on {index_url()}")


def normalize(name):
    return name.lower().replace("_", "-").replace(".", "-")


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url, dest, want, entry):
    part = dest + ".partial"
    with urllib.request.urlopen(url, timeout=300) as r, open(part, "wb") as f:
        while chunk := r.read(1 << 20):
            f.write(chunk)
    got = file_sha256(part)
    if got != want:
        os.remove(part)
        raise SystemExit(f"pypi.lock entry {entry}: downloaded file has sha256 {got}, the lock says {want}")
    os.replace(part, dest)


def main():
    cache = sys.argv[1]
    os.makedirs(cache, exist_ok=True)
    with open(LOCK, "rb") as f:
        lock = tomllib.load(f)
    if sys.argv[2:3] == ["--only"]:
        target, projects = sys.argv[3], {normalize(p) for p in sys.argv[4:]}
        lock["file"] = [e for e in lock["file"] if normalize(e["project"]) in projects and target in e["targets"]]
        missing = projects - {normalize(e["project"]) for e in lock["file"]}
        if missing:
            raise SystemExit(f"integration/pypi/pypi.lock has no {target} file of {', '.join(sorted(missing))}")
    todo, errors = [], []
    for e in lock["file"]:
        entry = f'{e["project"]} {e["version"]} ({e["filename"]})'
        path = os.path.join(cache, e["filename"])
        if os.path.exists(path):
            got = file_sha256(path)
            if got != e["sha256"]:
                errors.append(f"pypi.lock entry {entry}: {path} has sha256 {got}, the lock says "
                              f"{e['sha256']}; it was altered or is incomplete: delete it and run hack/setup again")
            continue
        todo.append((e, entry, path))
    if errors:
        raise SystemExit("\n".join(errors))

    def fetch(item):
        e, entry, path = item
        url, digest = find(e["project"], e["filename"])
        if url is None:
            raise SystemExit(f"pypi.lock entry {entry}: {index_url()} does not serve this file; regenerate the lock with hack/pypi-lock")
        if digest and digest != e["sha256"]:
            raise SystemExit(f"pypi.lock entry {entry}: the index says sha256 {digest}, the lock says {e['sha256']}")
        download(url, path, e["sha256"], entry)
        return e["filename"]

    if todo:
        print(f"fetching {len(todo)} of {len(lock['file'])} locked files from {index_url()}", file=sys.stderr)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for fn in pool.map(fetch, todo):
                print(f"  {fn}", file=sys.stderr)
    total = sum(e["size"] for e in lock["file"])
    print(f"{len(lock['file'])} locked files ({total / 1e6:.0f} MB) present and checked in {cache}", file=sys.stderr)


if __name__ == "__main__":
    main()
