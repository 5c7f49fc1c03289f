#!/usr/bin/env bash
# Every test of the project: installs what the notebook tests need (notebooks/setup.sh: Debian's
# Jupyter packages, as root or with sudo), then runs Maven's full build with its tests.
# Extra arguments go to Maven, e.g. ./test.sh -o, or ./test.sh -pl notebooks -am.
set -euo pipefail
cd "$(dirname "$0")"
notebooks/setup.sh --no-build
mvn -B verify "$@"
