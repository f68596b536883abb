#!/usr/bin/env bash
# The last call of the GPU measurement on a machine reached through capped uploads (docs/gpu.md): checks and reassembles
# the bundle parts that earlier calls left in PARTS_DIR, runs gpu-measure.sh under a time budget into a scratch folder,
# and packs what it wrote into ONE archive under OUT_DIR (such a machine may send back only a few files), then prints
# the failures and the bench tables so that the call's printed output alone already holds the figures.
# Usage: build/scripts/gpu-device-run.sh PARTS_DIR OUT_DIR [BUDGET_S (default 360)] [SECONDS_PER_ROW (default 0.5)]
#   GPU_MEASURE_BATCHES (default here 1,64,1024,8192) is passed on to gpu-measure.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] && [ -d "$1" ] || { echo "gpu-device-run: usage: gpu-device-run.sh PARTS_DIR OUT_DIR [BUDGET_S] [SECONDS_PER_ROW]; PARTS_DIR must be a folder (got '${1:-}')" >&2; exit 1; }
parts="$(cd "$1" && pwd)"; out="$2"; budget="${3:-360}"; seconds="${4:-0.5}"
work="${TMPDIR:-/tmp}/ganonnx-gpu"
mkdir -p "$out" "$work"
started=$SECONDS
( cd "$parts" && sha256sum -c --quiet SHA256SUMS ) || { echo "gpu-device-run: the parts in $parts do not match SHA256SUMS (missing or damaged)" >&2; exit 1; }
shopt -s nullglob
xzParts=("$parts"/bundle.tar.xz.part-*); gzParts=("$parts"/bundle.tar.gz.part-*)
rm -rf "$work/bundle"; mkdir -p "$work/bundle"
if [ ${#xzParts[@]} -gt 0 ]; then
  cat "${xzParts[@]}" | python3 -c "import sys, tarfile; tarfile.open(fileobj=sys.stdin.buffer, mode='r|xz').extractall('$work/bundle')"
elif [ ${#gzParts[@]} -gt 0 ]; then
  cat "${gzParts[@]}" | tar -xzf - -C "$work/bundle"
else
  echo "gpu-device-run: no bundle.tar.xz.part-* or bundle.tar.gz.part-* in $parts" >&2; exit 1
fi
bundle="$(dirname "$(ls "$work"/bundle/*/ganonnx)")"
[ -x "$bundle/ganonnx" ] || { echo "gpu-device-run: the reassembled bundle has no ganonnx" >&2; exit 1; }
echo "gpu-device-run: bundle reassembled in $((SECONDS - started)) s at $bundle"
rm -rf "$work/measure"
GPU_MEASURE_BUDGET_S="$budget" GPU_MEASURE_BATCHES="${GPU_MEASURE_BATCHES:-1,64,1024,8192}" \
  build/scripts/gpu-measure.sh "$bundle" "$work/measure" "" "$seconds"
tar -C "$work" -czf "$out/gpu-measure.tar.gz" measure
cp "$work/measure/failures.txt" "$out/failures.txt"
echo "gpu-device-run: $(du -h "$out/gpu-measure.tar.gz" | cut -f1) packed in $out/gpu-measure.tar.gz after $((SECONDS - started)) s"
# Compact tables first and the verdicts last, so that the end of the printed output (which is what such a call returns)
# holds the failures even when the tables are long.
for f in "$work"/measure/bench-cuda-*.md; do # target, output, batch, p50 ms, images/s
  echo "--- $(basename "$f" .md)"; awk -F'|' 'NR > 2 { gsub(/ /, "", $0); print $2, $4, $5, $9, $13 }' "$f"
done
for f in "$work"/measure/torch-*.txt; do
  echo "--- $(basename "$f" .txt)"; grep -v '^--- ' "$f" | tr -s ' ' | tail -n 40
done
for f in files-cuda files-cuda-stored compare-cuda-fp32 compare-cuda-tf32 torch-compare compare-cuda-fp16 compare-cuda-subpixel doctor; do
  [ -f "$work/measure/$f.txt" ] && { echo "--- $f"; tail -n 25 "$work/measure/$f.txt"; }
done
[ -f "$work/measure/ratios.md" ] && { echo "--- GanOnnx ÷ PyTorch"; cat "$work/measure/ratios.md"; }
echo "--- failures"; cat "$work/measure/failures.txt"
exit 0
