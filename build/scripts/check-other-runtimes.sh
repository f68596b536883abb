#!/usr/bin/env bash
# Runs every shipped model (or the models given) outside ONNX Runtime: the `onnx` package's full checker, and
# tests/peer/numpy_peer.py — an independent NumPy interpreter written from the ONNX specification, in float64 — on the
# 64 images of seed 42 that `ganonnx dump` makes with ONNX Runtime; the largest difference must stay within 1e-4.
# A model run against another model's images must fail, so the comparison can fail.
# Usage: build/scripts/check-other-runtimes.sh [GANONNX] [MODEL.onnx ...]   (GANONNX: the CLI; default the Release build)
set -uo pipefail
cd "$(dirname "$0")/../.."
ganonnx="${1:-runtime/GanOnnx.Cli/bin/Release/net10.0/ganonnx}"; shift || true
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(models/*/model.onnx)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c "import numpy" 2>/dev/null; then python="$p"; break; fi
done
[ -n "$python" ] || { echo "check-other-runtimes: no python3 with numpy (Debian: apt-get install python3-numpy)" >&2; exit 1; }
[ -x "$ganonnx" ] || { echo "check-other-runtimes: $ganonnx is not built (dotnet build runtime/GanOnnx.Cli -c Release)" >&2; exit 1; }

failed=0; previous=""
for model in "${models[@]}"; do
  name="$(basename "$(dirname "$model")")"
  "$ganonnx" dump --model "$model" --count 64 --seed 42 --out "$work/$name" > /dev/null || { echo "FAIL $model: ganonnx dump"; failed=1; continue; }
  before="$(sha256sum < "$model")"
  "$python" tests/peer/numpy_peer.py check --model "$model" || { echo "FAIL $model: onnx checker"; failed=1; }
  [ "$(sha256sum < "$model")" = "$before" ] || { echo "FAIL $model: the check changed the file"; failed=1; }
  "$python" tests/peer/numpy_peer.py compare --model "$model" --dump "$work/$name" --tolerance 1e-4 || { echo "FAIL $model: numpy peer"; failed=1; }
  if [ -n "$previous" ]; then
    if "$python" tests/peer/numpy_peer.py compare --model "$model" --dump "$work/$previous" --tolerance 1e-4 > /dev/null 2>&1; then
      echo "FAIL $model: the numpy peer accepted another model's images ($previous)"; failed=1
    fi
  fi
  previous="$name"
done
[ $failed = 0 ] && echo "check-other-runtimes: ${#models[@]} model(s) ok" || echo "check-other-runtimes: failures above" >&2
exit $failed
