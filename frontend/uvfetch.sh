# Fetches the uv wheel that acai-uv.txt pins from the build's Python index, with pip's
# settings (PIP_* build args, a pip.conf or netrc secret; "$@" are the [build] index
# options), checks it against the pinned hashes, and writes its binaries to $ACAI_UV_OUT.
# uv's own index settings stand in for pip's where pip's are not set (pipsettings.sh).
set -eu
. "$(dirname "$0")/acai-pip-settings.sh"
log=/tmp/acai-uv.log
if ! python -m pip download --no-deps --only-binary :all: --require-hashes \
  --dest /tmp/acai-uv -r "$(dirname "$0")/acai-uv.txt" "$@" >"$log" 2>&1; then
  cat "$log" >&2
  # One line that names the cause, last, where the build's error shows it: the index
  # (without credentials) probed once more, where pip's messages do not say.
  python - "$log" "$@" >&2 <<'PY'
import os, socket, ssl, subprocess, sys, urllib.error, urllib.parse, urllib.request
log, args = open(sys.argv[1]).read(), sys.argv[2:]
url = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--index-url", "-i")), None) or os.environ.get("PIP_INDEX_URL")
if not url:
    conf = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True)
    url = conf.stdout.strip() or "https://pypi.org/simple"
u = urllib.parse.urlsplit(url)
shown = u._replace(netloc=(u.hostname or "") + (":%d" % u.port if u.port else "")).geturl()
if "DO NOT MATCH THE HASHES" in log:
    cause = "it served a uv wheel whose hash is not one of those acai pins (spec/uv-wheels.txt)"
elif "not a trusted or secure host" in log:
    cause = "it is plain HTTP on a host pip does not trust: use HTTPS, or --build-arg PIP_TRUSTED_HOST=" + (u.hostname or "")
else:
    try:
        tls = ssl.create_default_context(cafile=os.environ.get("PIP_CERT"))
        timeout = float(os.environ.get("PIP_TIMEOUT") or os.environ.get("PIP_DEFAULT_TIMEOUT") or 15)
        urllib.request.urlopen(shown.rstrip("/") + "/uv/", timeout=timeout, context=tls)
        cause = "see pip's messages above"
    except urllib.error.HTTPError as e:
        cause = "it answered HTTP %d" % e.code
        if e.code in (401, 403):
            cause += ": it wants credentials; give them with --secret id=netrc, id=pip.conf or id=uv.toml"
    except urllib.error.URLError as e:
        r = e.reason
        if isinstance(r, ssl.SSLCertVerificationError):
            cause = ("its TLS certificate is not trusted (%s): give the build the CA that signs it, "
                     "--secret id=ca-bundle,src=ca.pem" % r.verify_message)
        elif isinstance(r, socket.gaierror):
            cause = "its host name does not resolve"
        elif isinstance(r, ConnectionRefusedError):
            cause = "it refused the connection"
        elif isinstance(r, (socket.timeout, TimeoutError)):
            cause = "it did not answer in time"
        else:
            cause = str(r)
    except (socket.timeout, TimeoutError):
        cause = "it did not answer in time"
print("acai: fetching uv from the Python index %s failed: %s" % (shown, cause))
PY
  exit 1
fi
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
