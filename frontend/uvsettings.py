# acai runs uv through this: uv reads neither pip's environment (PIP_*) nor pip.conf, so a
# pip user's index settings are carried over, as uv's own (UV_*), which win when given.
# pip's order holds: its environment over its configuration file. Then uv runs (argv).
import configparser
import os
import sys

names = {"index-url": "UV_INDEX_URL", "extra-index-url": "UV_EXTRA_INDEX_URL",
         "no-cache-dir": "UV_NO_CACHE", "no-index": "UV_NO_INDEX"}
flags = {"UV_NO_CACHE", "UV_NO_INDEX"}
settings = {}
conf = configparser.RawConfigParser()
conf.read(os.environ.get("PIP_CONFIG_FILE", "/etc/pip.conf"))
for section in ("global", "install"):
    if conf.has_section(section):
        for key, value in conf.items(section):
            if key in names:
                settings[names[key]] = value
for key, uv_name in names.items():
    value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
    if value is not None:
        settings[uv_name] = value
for uv_name, value in settings.items():
    value = " ".join(value.split())
    if uv_name in flags:
        if value.lower() not in ("1", "true", "yes", "on"):
            continue
        value = "1"
    os.environ.setdefault(uv_name, value)
# A CA bundle given as the ca-bundle secret: what uv trusts (install.go, caBundleSecret).
if os.path.isfile("/etc/acai/ca-bundle.pem"):
    os.environ.setdefault("SSL_CERT_FILE", "/etc/acai/ca-bundle.pem")
os.execv(sys.argv[1], sys.argv[1:])
