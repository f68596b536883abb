#!/usr/bin/env bash
# Cuts the GPU bundle into gzip parts (gzip, not zstd: every Linux image can unpack it) that each fit a transfer limit,
# for a GPU machine that can only be reached through small uploads (this workplace's lent GPU takes 64 MiB a call,
# working tree included; the bundle is 393 MB, of which the CUDA provider library is 284 MB). Upload the parts one by
# one into a folder that stays on the machine between uploads, then run the printed reassembly command there.
# With --keep-sm N (e.g. 90 for an H100/H200) the parts carry a copy of the bundle whose CUDA provider keeps only the
# GPU code of that architecture (build/scripts/fatbin-keep-arch.py zeroes the rest in place): 284 MB that gzip to 90 MB
# instead of 186, so the bundle needs about half the parts. The library is otherwise unchanged (same size and offsets).
# With --xz the parts are xz instead of gzip (the pruned bundle: 86.5 MiB instead of 143 MB; any Python 3 unpacks them),
# so `--keep-sm 90 --xz 44` makes two parts, each small enough to travel beside the slimmed working tree (docs/gpu.md).
# Usage: build/scripts/gpu-bundle-parts.sh [--keep-sm N] [--xz] [PART_MB (default 36)] [BUNDLE_DIR (default artifacts/ganonnx-gpu-linux-x64)] [OUT (default artifacts/gpu-parts)]
set -euo pipefail
cd "$(dirname "$0")/../.."
keep_sm=""; ext="gz"
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-sm) keep_sm="$2"; shift 2 ;;
    --xz) ext="xz"; shift ;;
    *) break ;;
  esac
done
part_mb="${1:-36}"; bundle="${2:-artifacts/ganonnx-gpu-linux-x64}"; out="${3:-artifacts/gpu-parts}"
[ -x "$bundle/ganonnx" ] || build/scripts/gpu-bundle.sh "$bundle"
rm -rf "$out"; mkdir -p "$out"
source="$(dirname "$bundle")"
if [ -n "$keep_sm" ]; then
  source="$(mktemp -d)"; trap 'rm -rf "$source"' EXIT
  cp -a "$bundle" "$source/"
  python3 build/scripts/fatbin-keep-arch.py "$source/$(basename "$bundle")/libonnxruntime_providers_cuda.so" "$keep_sm"
fi
if [ "$ext" = "xz" ]; then compress=(xz -9 -T0); unpack="python3 -c \"import sys, tarfile; tarfile.open(fileobj=sys.stdin.buffer, mode='r|xz').extractall()\""
else compress=(gzip -9); unpack="tar -xzf -"; fi
tar -C "$source" -cf - "$(basename "$bundle")" | "${compress[@]}" > "$out/bundle.tar.$ext"
split -b "${part_mb}M" -d -a 2 "$out/bundle.tar.$ext" "$out/bundle.tar.$ext.part-"
rm "$out/bundle.tar.$ext"
( cd "$out" && sha256sum bundle.tar.$ext.part-* > SHA256SUMS )
echo "gpu-bundle-parts: $(ls "$out"/bundle.tar.$ext.part-* | wc -l) parts of at most ${part_mb} MB in $out:"
ls -la "$out"
echo "on the GPU machine, once every part is in one folder:"
echo "  sha256sum -c SHA256SUMS && cat bundle.tar.$ext.part-* | $unpack && ./$(basename "$bundle")/ganonnx doctor --cuda-path \"\$(python3 -c 'import nvidia; print(\":\".join(nvidia.__path__))')\""
