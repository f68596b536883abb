#!/usr/bin/env bash
# Training speed against PyTorch on the same machine: ganonnx-train bench-train and tests/peer/torch_train_peer.py on the
# same architectures, interleaved ROUNDS times (so that a change in the machine's speed hits both), then each model's
# median steps/s and the ratio. Needs python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread; without
# OpenBLAS, Debian's torch falls back to the reference BLAS and is many times slower). PyTorch runs with one OpenBLAS
# thread and THREADS torch threads, its fastest setting measured on the 2-core machine.
# Usage: build/scripts/bench-train-vs-pytorch.sh ["dcgan 28×28,keras-dcgan 28×28"] [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
models="${1:-mlp 28×28,keras-dcgan 28×28,dcgan 28×28,dcgan 64×64 RGB}"; rounds="${2:-3}"; threads="${3:-2}"
python="${PYTHON:-/usr/bin/python3}"
dotnet build trainer/GanOnnx.Trainer.Cli -c Release -nologo -v q >/dev/null
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
  dotnet trainer/GanOnnx.Trainer.Cli/bin/Release/net10.0/ganonnx-train.dll bench-train --models "$models" --memory-steps "" --threads "$threads" 2>/dev/null \
    | grep "steps/s" | sed 's/^/ganonnx /' >> "$log"
  OPENBLAS_NUM_THREADS=1 "$python" tests/peer/torch_train_peer.py --models "$models" --threads "$threads" | grep "steps/s" | sed 's/^/pytorch /' >> "$log"
done
"$python" - "$log" <<'PY'
import re, statistics, sys, collections
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+(.+?)\s+([0-9.]+) steps/s", line)
    if m: runs[m.group(2).strip()][m.group(1)].append(float(m.group(3)))
print(f"{'model':<24} {'ganonnx':>22} {'pytorch':>22} {'ratio':>7}")
for model, by in runs.items():
    g, p = by.get("ganonnx", []), by.get("pytorch", [])
    if not g or not p: continue
    gm, pm = statistics.median(g), statistics.median(p)
    print(f"{model:<24} {gm:8.2f} ({'/'.join(f'{x:.2f}' for x in g):>12}) {pm:8.2f} ({'/'.join(f'{x:.2f}' for x in p):>12}) {gm / pm:6.2f}x")
PY
