#!/usr/bin/env bash
# Executes a notebook headless, as Jupyter would, and writes the executed notebook and an HTML page
# of it: notebooks/target/<name>.ipynb and notebooks/target/<name>.html.
# Usage: notebooks/run.sh [--no-build] [notebook.ipynb]   (default: wage-gap.ipynb)
# Runs notebooks/setup.sh first (installs Jupyter if missing, builds the project and the kernel
# spec; --no-build skips the build when it is up to date).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
setup_args=()
notebook="wage-gap.ipynb"
for a in "$@"; do
  case "$a" in
    --no-build) setup_args+=(--no-build) ;;
    -*) echo "usage: $0 [--no-build] [notebook.ipynb]" >&2; exit 2 ;;
    *) notebook="$a" ;;
  esac
done
"$here/setup.sh" "${setup_args[@]}"
cd "$here"
name="$(basename "$notebook" .ipynb)"
out="$here/target"
mkdir -p "$out/jupyter-runtime"
export JUPYTER_PATH="$out/jupyter" JUPYTER_DATA_DIR="$out/jupyter" JUPYTER_RUNTIME_DIR="$out/jupyter-runtime"
if [ ! -f "$out/jupyter/kernels/spark-mpc-java/kernel.json" ]; then
  echo "run: no kernel spec in $out/jupyter; run without --no-build" >&2
  exit 1
fi
execute() {
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=spark-mpc-java \
    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.startup_timeout=90 \
    --output-dir "$out" "$notebook" 2>&1 | tee "$out/$name.log"
  return "${PIPESTATUS[0]}"
}
# The kernel (rapaio 3.0.1) misses Jupyter's start-up handshake now and then: start it again, up
# to four times in all.
for start in 1 2 3 4; do
  if execute; then
    break
  fi
  if [ "$start" -lt 4 ] && grep -q -e "Kernel didn't respond" -e "Kernel died before replying" \
      "$out/$name.log"; then
    echo "run: the kernel did not start; starting it again" >&2
  else
    exit 1
  fi
done
jupyter nbconvert --to html --output-dir "$out" "$out/$name.ipynb"
echo "run: executed notebook in $out/$name.ipynb, page in $out/$name.html"
