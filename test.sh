#!/usr/bin/env bash
# Every test of the project: fetches the public data sets the accuracy tests read
# (datasets/fetch.sh: from Debian's python3-sklearn package, nothing installed), installs what the
# notebook tests need (notebooks/setup.sh: Debian's Jupyter packages, as root or with sudo), then
# runs Maven's full build with its tests.
# Extra arguments go to Maven, e.g. ./test.sh -o, or ./test.sh -Pfast (every test but those
# tagged "cluster": the standalone clusters and the notebook, so no Jupyter is installed).
set -euo pipefail
cd "$(dirname "$0")"
datasets/fetch.sh
case " $* " in
  *" -Pfast "*) ;;
  *) notebooks/setup.sh --no-build ;;
esac
mvn -B verify "$@"
