# Fetches the uv wheel that acai-uv.txt pins from the build's Python index, with pip's
# settings (PIP_* build args, a pip.conf or netrc secret; "$@" are the [build] index
# options), checks it against the pinned hashes, and writes its binaries to $ACAI_UV_OUT.
# uv's own index build args stand in for pip's where pip's are not set.
set -eu
if [ -z "${PIP_INDEX_URL:-}" ] && [ -n "${UV_DEFAULT_INDEX:-${UV_INDEX_URL:-}}" ]; then
  export PIP_INDEX_URL="${UV_DEFAULT_INDEX:-$UV_INDEX_URL}"
fi
if [ -z "${PIP_EXTRA_INDEX_URL:-}" ] && [ -n "${UV_EXTRA_INDEX_URL:-${UV_INDEX:-}}" ]; then
  export PIP_EXTRA_INDEX_URL="${UV_EXTRA_INDEX_URL:-$UV_INDEX}"
fi
python -m pip download --quiet --no-deps --only-binary :all: --require-hashes \
  --dest /tmp/acai-uv -r "$(dirname "$0")/acai-uv.txt" "$@"
python - "$ACAI_UV_OUT" /tmp/acai-uv/uv-*.whl <<'PY'
import os, sys, zipfile
out, wheel = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("uv", "uvx"):
        member = next(m for m in z.namelist() if m.endswith(".data/scripts/" + name))
        with open(os.path.join(out, name), "wb") as f:
            f.write(z.read(member))
        os.chmod(os.path.join(out, name), 0o755)
PY
