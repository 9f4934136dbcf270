#!/bin/sh
# acai's compiler wrapper, CC and CXX of every install step (mounted at /acai/cc as gcc
# and g++; it reaches no image). uv and pip build a source distribution in a directory
# with a random name (uv: <cache>/sdists-vN/.../<random>/src; pip:
# /tmp/pip-install-<random>/<name>_<random>, /tmp/pip-wheel-<random>/<name>_<random>,
# /tmp/pip-req-build-<random>), against
# build environments with random names. C and C++ keep such paths in __FILE__ (asserts,
# log lines), so two builds of one sdist differ (awslambdaric's aws-lambda-cpp does).
# This maps them to fixed names (-ffile-prefix-map, which also covers debug
# information), then runs the real compiler of its own name from PATH.
maps=
map() { maps="$maps -ffile-prefix-map=$1=$2"; }
case $PWD in
*/sdists-v*/*/src | */sdists-v*/*/src/*)
	rest=${PWD#*/sdists-v}
	pre=${rest%%/src/*}
	[ "$pre" = "$rest" ] && pre=${rest%/src}
	map "${PWD%%/sdists-v*}/sdists-v$pre/src" /acai/build/src
	;;
/tmp/pip-install-*/* | /tmp/pip-wheel-*/*)
	rest=${PWD#/tmp/}
	first=${rest%%/*}
	rest=${rest#*/}
	map "/tmp/$first/${rest%%/*}" /acai/build/src
	;;
/tmp/pip-req-build-*)
	rest=${PWD#/tmp/}
	map "/tmp/${rest%%/*}" /acai/build/src
	;;
esac
for d in /tmp/pip-build-env-* "${UV_CACHE_DIR:-/root/.cache/uv}"/builds-v*/.tmp*; do
	[ -d "$d" ] && map "$d" /acai/build/env
done
# The paths hold no spaces: they are uv's and pip's own.
# shellcheck disable=SC2086
exec "${0##*/}" $maps "$@"
