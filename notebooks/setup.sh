#!/usr/bin/env bash
# Installs what executing the notebooks headless needs, and nothing into the user's home:
#  1. Debian's Jupyter pieces (nbconvert and its `jupyter nbconvert` command, nbclient,
#     jupyter-client, ipykernel) and a font for the charts, with apt-get, for whichever of them is
#     not installed yet (as root, or through sudo);
#  2. unless --no-build: the project, built with Maven (-DskipTests package). The notebooks
#     module's build fetches the Java kernel (rapaio-jupyter-kernel) into notebooks/target/kernel/
#     and writes the kernel spec "spark-mpc-java" into notebooks/target/jupyter/kernels/, with the
#     project's classpath and Spark's JVM flags. Jupyter finds it with
#     JUPYTER_PATH=notebooks/target/jupyter (notebooks/run.sh and the tests set it).
# Idempotent: run it again at any time. Usage: notebooks/setup.sh [--no-build]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
  esac
done

# --- 1. Jupyter and a font, from Debian's packages ---------------------------------------------
packages="jupyter-nbconvert python3-nbconvert python3-nbclient jupyter-client python3-ipykernel \
fontconfig fonts-dejavu-core"
missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup: missing Debian packages:$missing; install them as root (apt-get install" \
      "--no-install-recommends$missing)" >&2
    exit 1
  fi
  echo "setup: installing$missing with apt-get"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
echo "setup: jupyter nbconvert $(jupyter nbconvert --version 2>/dev/null) is installed"

# --- 2. The kernel and its spec, from the Maven build ------------------------------------------
if [ "$build" -eq 1 ]; then
  echo "setup: building the project (mvn -B -q -DskipTests package); this writes the kernel spec"
  (cd "$root" && mvn -B -q -DskipTests package)
  spec="$here/target/jupyter/kernels/spark-mpc-java/kernel.json"
  if [ ! -f "$spec" ] || [ ! -f "$here/target/kernel/rapaio-jupyter-kernel.jar" ]; then
    echo "setup: the build did not write $spec" >&2
    exit 1
  fi
  echo "setup: kernel spark-mpc-java ready; Jupyter finds it with JUPYTER_PATH=$here/target/jupyter"
fi
