#!/usr/bin/env bash
# Every test of the project: fetches the public data sets the accuracy tests read
# (datasets/fetch.sh: from Debian's python3-sklearn package, nothing installed), installs what the
# notebook tests need (notebooks/setup.sh: Debian's Jupyter packages, as root or with sudo) and the
# PostgreSQL server the JDBC tests start throwaway clusters of (connectors/postgres.sh install:
# Debian's postgresql package, as root or with sudo), then runs Maven's full build with its tests.
# Extra arguments go to Maven, e.g. ./test.sh -o, or ./test.sh -Pfast (every test but those
# tagged "cluster" or "database": the standalone clusters, the notebooks and the PostgreSQL
# sources, so neither Jupyter nor PostgreSQL is installed).
set -euo pipefail
cd "$(dirname "$0")"
datasets/fetch.sh
case " $* " in
  *" -Pfast "*) ;;
  *)
    notebooks/setup.sh --no-build
    connectors/postgres.sh install
    ;;
esac
mvn -B verify "$@"
