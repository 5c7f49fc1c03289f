#!/usr/bin/env bash
# The demo: three banks on this machine, each its own JVM and Spark, over TLS on loopback; then
# two hospitals and a dealer fit a secure linear regression; then the three banks and a dealer fit
# a fraud model (secure logistic regression); then two hospitals with overlapping patient sets align
# them by private set intersection and fit a readmission model; last, two aggregation parties
# open the mean of a federated round's client updates. Builds the project on first use (Java 17
# and Maven needed). Arguments: [--rows N (transactions per bank; 0 skips the banks' query)]
# [--patients N (0 skips the regression)] [--fraud N (labelled transactions per bank; 0 skips the
# fraud model)] [--study N (patients per hospital; 0 skips the study)] [--clients N (federated
# clients; 0 skips the round)] [--work DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
. "$root/bin/mpc-env.sh"
cp="$(spark_mpc_classpath "$root")"
# shellcheck disable=SC2086
exec java -Xmx2g $SPARK_MPC_JVM_FLAGS -cp "$cp" org.sparkmpc.it.Demo "$@"
