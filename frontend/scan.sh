# acai's runtime-library scan. Runs in the builder after the dependency install and
# never reaches an image. Arguments: DEPS_DIR RUNNER_BASE_ROOT OUTPUT_FILE.
# Writes one so:SONAME per line for every shared library that an ELF file under DEPS_DIR
# needs and that neither DEPS_DIR itself (wheels bundle libraries in *.libs/) nor the
# runner base image provides. Libraries loaded with dlopen() are invisible to this scan;
# list their packages in `apk`.
set -eu
deps=$1 base=$2 out=$3
command -v scanelf >/dev/null || { echo "acai: scanelf is missing from the builder (apk add scanelf), needed by runtime.auto_deps" >&2; exit 1; }
needed=$(scanelf -R -B -F '%n#F' "$deps" | tr ',' '\n' | sed '/^$/d' | sort -u)
bundled=$( { scanelf -R -B -F '%S#F' "$deps"; find "$deps" -name '*.so*' | sed 's|.*/||'; } | sed '/^$/d' | sort -u)
# What the runner base has in its library directories, listed once (a find per library
# walked them once each).
provided=$(find "$base/lib/" "$base/usr/lib/" "$base/usr/local/lib/" \( -type f -o -type l \) 2>/dev/null | sed 's|.*/||' | sort -u)
mkdir -p "$(dirname "$out")"
: > "$out"
for so in $needed; do
  if printf '%s\n' "$bundled" | grep -qxF "$so"; then
    echo "  $so: bundled with the installed packages"
  elif printf '%s\n' "$provided" | grep -qxF "$so"; then
    echo "  $so: already in the runner base image"
  else
    echo "  $so: needs so:$so"
    echo "so:$so" >> "$out"
  fi
done
echo "runtime packages found: $(tr '\n' ' ' < "$out")"
