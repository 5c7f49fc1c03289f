#!/usr/bin/env bash
# The benchmark harness: secure vs plaintext Spark, same data, same run. [--rows N] [--work DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
. "$root/bin/mpc-env.sh"
cp="$(spark_mpc_classpath "$root")"
# shellcheck disable=SC2086
exec java -Xmx4g $SPARK_MPC_JVM_FLAGS -cp "$cp" org.sparkmpc.it.Benchmark "$@"
