#!/usr/bin/env bash
# Makes the working tree small enough to travel beside a bundle part to a GPU machine that takes a capped upload per
# call (this workplace's lent GPU: 64 MiB a call, the working tree's files included; models/ has grown past 55 MB).
# Moves every models/ folder that gpu-measure.sh does not measure into artifacts/gpu-slim-stash/ (git ignores
# artifacts/, so it stays behind), and prints the size that is left. --restore moves them back; `git status` is clean
# again afterwards. Nothing is deleted.
# Usage: build/scripts/gpu-slim-tree.sh [--restore]
set -euo pipefail
cd "$(dirname "$0")/../.."
stash=artifacts/gpu-slim-stash
if [ "${1:-}" = "--restore" ]; then
  [ -d "$stash" ] || { echo "gpu-slim-tree: nothing to restore ($stash does not exist)"; exit 0; }
  for d in "$stash"/*/; do
    name="$(basename "$d")"
    [ -e "models/$name" ] && { echo "gpu-slim-tree: models/$name exists; not overwriting it (restore by hand from $stash)" >&2; exit 1; }
    mv "$d" "models/$name"
  done
  rmdir "$stash"
  echo "gpu-slim-tree: restored; git status:"; git status --short models | head
  exit 0
fi
measured="$(sed -n 's/^shipped=(\(.*\)).*/\1/p' build/scripts/gpu-measure.sh)"
[ -n "$measured" ] || { echo "gpu-slim-tree: found no shipped=(…) line in build/scripts/gpu-measure.sh" >&2; exit 1; }
mkdir -p "$stash"
for d in models/*/; do
  name="$(basename "$d")"
  case " $measured " in *" models/$name/model.onnx "*) continue ;; esac
  mv "models/$name" "$stash/$name"
done
left="$( (git ls-files --cached --others --exclude-standard -z | xargs -0 du -cb 2>/dev/null || true) | tail -1 | cut -f1)"
echo "gpu-slim-tree: kept $(ls -d models/*/ | tr '\n' ' '); moved the rest to $stash"
echo "gpu-slim-tree: the working tree's files now come to $((left / 1048576)) MiB (restore with --restore)"
