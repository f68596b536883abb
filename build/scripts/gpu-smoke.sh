#!/usr/bin/env bash
# Checks a GPU bundle (build/scripts/gpu-bundle.sh) on this machine. Without CUDA: `--provider cuda` must exit 1 naming
# the missing library and `--provider auto` must fall back to the CPU and say why. With --expect-cuda (on a GPU server):
# `doctor --require cuda` must pass and `generate --provider cuda` must write the images.
# Usage: build/scripts/gpu-smoke.sh BUNDLE_DIR MODEL.onnx [--expect-cuda]
set -uo pipefail
bundle="$1"; model="$2"; expect="${3:-}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fail() { echo "gpu-smoke: $*" >&2; exit 1; }

"$bundle/ganonnx" doctor > "$work/doctor.txt" || fail "doctor failed"
grep -q "CUDAExecutionProvider" "$work/doctor.txt" || fail "the bundle's ONNX Runtime has no CUDA provider: $(head -1 "$work/doctor.txt")"
if [ "$expect" = "--expect-cuda" ]; then
  "$bundle/ganonnx" doctor --require cuda || fail "CUDA is not usable: see above"
  "$bundle/ganonnx" generate --model "$model" --count 256 --batch-size 64 --out "$work/cuda" --provider cuda --quiet || fail "generate on CUDA failed"
  [ "$(ls "$work/cuda"/seed42-*.png | wc -l)" = 256 ] || fail "generate on CUDA did not write 256 images"
else
  "$bundle/ganonnx" generate --model "$model" --count 4 --out "$work/cuda" --provider cuda --quiet 2> "$work/cuda.err" && fail "--provider cuda succeeded on a machine without CUDA"
  grep -q "missing .*libcublasLt.so.13" "$work/cuda.err" || fail "--provider cuda did not name the missing library: $(cat "$work/cuda.err")"
  "$bundle/ganonnx" generate --model "$model" --count 4 --out "$work/auto" --provider auto --quiet > "$work/auto.out" || fail "--provider auto did not fall back to the CPU"
  grep -q "on CPU (auto; CUDA not taken: missing" "$work/auto.out" || fail "--provider auto did not say why CUDA was not taken: $(cat "$work/auto.out")"
fi
echo "gpu-smoke: ok ($("$bundle/ganonnx" doctor | head -1))"
