# Sourced by the steps that run pip with the build's index settings whatever the
# installer (uvfetch.sh, wheel builds): uv's own index build args and a uv.toml secret
# stand in for pip's where pip's are not set, and a ca-bundle secret is what pip trusts.
if [ -z "${PIP_INDEX_URL:-}" ] && [ -n "${UV_DEFAULT_INDEX:-${UV_INDEX_URL:-}}" ]; then
  export PIP_INDEX_URL="${UV_DEFAULT_INDEX:-$UV_INDEX_URL}"
fi
if [ -z "${PIP_EXTRA_INDEX_URL:-}" ] && [ -n "${UV_EXTRA_INDEX_URL:-${UV_INDEX:-}}" ]; then
  export PIP_EXTRA_INDEX_URL="${UV_EXTRA_INDEX_URL:-$UV_INDEX}"
fi
# A uv.toml secret (the way uv users give their index) stands in where neither pip's
# settings (a pip.conf secret, PIP_* args) nor uv's args give one: its default index
# (index-url, or the [[index]] marked default) and the others, as pip's.
if [ -z "${PIP_INDEX_URL:-}" ] && [ ! -f /etc/pip.conf ] && [ -f /etc/uv/uv.toml ]; then
  eval "$(python - /etc/uv/uv.toml <<'PY'
import shlex, sys
try:
    import tomllib
except ImportError:  # Python < 3.11 reads no TOML: uv.toml is not carried over
    sys.exit(0)
with open(sys.argv[1], "rb") as f:
    conf = tomllib.load(f)
pip = conf.get("pip", {})
default = pip.get("index-url") or conf.get("index-url")
extra = list(pip.get("extra-index-url") or conf.get("extra-index-url") or [])
for index in conf.get("index", []):
    if index.get("default") and not default:
        default = index.get("url")
    elif index.get("url"):
        extra.append(index["url"])
if default:
    print("export PIP_INDEX_URL=" + shlex.quote(default))
if extra and not __import__("os").environ.get("PIP_EXTRA_INDEX_URL"):
    print("export PIP_EXTRA_INDEX_URL=" + shlex.quote(" ".join(extra)))
PY
)"
fi
# A CA bundle given as the ca-bundle secret (install.go, caBundleSecret).
if [ -f /etc/acai/ca-bundle.pem ]; then
  export PIP_CERT=/etc/acai/ca-bundle.pem
fi
