#!/usr/bin/env bash
# The GPU measurement of docs/gpu.md in one run, for a GPU server that has the offline bundle (gpu-bundle.sh, or the
# parts of gpu-bundle-parts.sh reassembled) and this repository's models/ and tests/peer/. Writes everything under OUT:
# nvidia-smi, doctor and info, the CUDA-vs-CPU dump comparison, a grid made on the GPU, the bench rows per model (--json
# and --markdown), generate to files, and the PyTorch peer's rows when PyTorch is there. A step that fails is recorded in
# OUT/failures.txt and the run goes on, so one run gives every figure it can.
# The steps run most important first (does CUDA work and agree with the CPU; mnist-dcgan against its peers; the 64×64 RGB
# model; files; fp16; the conditional model; the CPU), so that with a time budget the run keeps what matters most:
#   GPU_MEASURE_BUDGET_S=360   every step runs under `timeout` with what is left; a step with under 10 s left is skipped
#                              (listed in failures.txt as SKIP). 0 or unset: no budget.
#   GPU_MEASURE_BATCHES=1,64,256,1024,4096,8192   the batch sizes of the bench rows (GanOnnx and PyTorch alike).
# Usage: build/scripts/gpu-measure.sh BUNDLE_DIR OUT [CUDA_PATH (default: the Python environment's site-packages/nvidia)] [SECONDS_PER_ROW (default 1)]
set -uo pipefail
cd "$(dirname "$0")/../.."
bundle="$1"; out="$2"
# The CUDA libraries: the Python environment's nvidia-* wheels (CUDA 13's put them all in nvidia/cu13/lib, cuDNN in
# nvidia/cudnn/lib; `nvidia` is a namespace package there, so its __path__, not its __file__), plus the folder of any
# libcublasLt.so.13 / libcudnn.so.9 found elsewhere (a toolkit), so that one run needs no flag on an unknown server.
cuda="${3:-$(python3 -c 'import nvidia; print(":".join(nvidia.__path__))' 2>/dev/null || true)}"
if [ -z "${3:-}" ]; then
  for lib in libcublasLt.so.13 libcudnn.so.9; do
    found="$(find /usr/local /opt /usr/lib -name "$lib" 2>/dev/null | head -n 1)"
    [ -n "$found" ] && cuda="${cuda:+$cuda:}$(dirname "$found")"
  done
fi
echo "gpu-measure: CUDA libraries from '${cuda:-the system search path}'"
seconds="${4:-1}"
budget="${GPU_MEASURE_BUDGET_S:-0}"
batches="${GPU_MEASURE_BATCHES:-1,64,256,1024,4096,8192}"
g="$bundle/ganonnx"
mkdir -p "$out"
: > "$out/failures.txt"
deadline=$((SECONDS + budget))
step() { # step NAME COMMAND...: runs COMMAND (under the budget's timeout), output to OUT/NAME.txt, failures listed
  local name="$1"; shift
  local started=$SECONDS limit=()
  if [ "$budget" -gt 0 ]; then
    local left=$((deadline - SECONDS))
    if [ "$left" -lt 10 ]; then echo "SKIP $name (time budget of ${budget} s spent)" | tee -a "$out/failures.txt"; return; fi
    limit=(timeout -k 5 "$left")
  fi
  if "${limit[@]}" "$@" > "$out/$name.txt" 2>&1; then echo "ok   $name ($((SECONDS - started)) s)"
  else echo "FAIL $name (exit $?, $((SECONDS - started)) s)" | tee -a "$out/failures.txt"; fi
}
shipped=(models/mnist-dcgan/model.onnx models/emoji-dcgan/model.onnx models/mnist-cdcgan/model.onnx) # 28×28 unconditional, 64×64 RGB, conditional
cudaArgs=(--cuda-path "$cuda")
haveTorch=""; python3 -c 'import torch' 2>/dev/null && haveTorch=1
[ -n "$haveTorch" ] || echo "FAIL torch (PyTorch is not installed here)" | tee -a "$out/failures.txt"
benchCuda() { # benchCuda NAME MODEL: GanOnnx on CUDA, float and uint8 outputs, CUDA graphs off and on, plain ONNX Runtime beside it
  step "bench-cuda-$1" "$g" bench --model "$2" --providers cuda --batch-sizes "$batches" --outputs float,uint8 --cuda-graph off,on \
    --peer --duration "$seconds" --warmup 3 "${cudaArgs[@]}" --json "$out/bench-cuda-$1.json" --markdown "$out/bench-cuda-$1.md"
}
benchTorch() { # benchTorch NAME MODEL: the PyTorch peer on the same GPU, eager and CUDA graphs, fp32 and fp16
  [ -n "$haveTorch" ] && step "torch-$1" python3 tests/peer/torch_peer.py bench --model "$2" --device cuda --batch-sizes "$batches" \
    --outputs float,uint8,device --duration "$seconds" --warmup 3 --json "$out/torch-$1.json"
}
benchBoth() { # benchBoth MODEL...: per shipped model, GanOnnx on CUDA and then PyTorch on the same model
  local m name
  for m in "$@"; do
    name="$(basename "$(dirname "$m")")"
    benchCuda "$name" "$m"
    benchTorch "$name" "$m"
  done
}

step nvidia-smi nvidia-smi
step doctor "$g" doctor "${cudaArgs[@]}" --require cuda
step info "$g" info --model models/mnist-dcgan/model.onnx --provider cuda "${cudaArgs[@]}"
step dump-cpu "$g" dump --model models/mnist-dcgan/model.onnx --count 64 --seed 42 --out "$out/dump-cpu"
# Full float32 (--no-tf32) must agree with the CPU to 1e-3; with TF32 tensor cores (the default, as in ONNX Runtime and
# PyTorch's convolutions) the images differ by up to about one 8-bit level, so that comparison gets 1e-2.
step compare-cuda-fp32 "$g" dump --model models/mnist-dcgan/model.onnx --count 64 --seed 42 --out "$out/dump-cuda-fp32" --provider cuda --no-tf32 "${cudaArgs[@]}" --compare "$out/dump-cpu" --tolerance 1e-3
step compare-cuda-tf32 "$g" dump --model models/mnist-dcgan/model.onnx --count 64 --seed 42 --out "$out/dump-cuda" --provider cuda "${cudaArgs[@]}" --compare "$out/dump-cpu" --tolerance 1e-2
step grid-cuda "$g" generate --model models/mnist-dcgan/model.onnx --count 64 --seed 42 --out "$out/grid-cuda" --provider cuda "${cudaArgs[@]}" --quiet
[ -n "$haveTorch" ] && step torch-compare python3 tests/peer/torch_peer.py compare --model models/mnist-dcgan/model.onnx --dump "$out/dump-cuda-fp32" --device cuda --tf32 off --tolerance 1e-3
benchBoth "${shipped[@]:0:2}"
# ONNX Runtime's own CUDA kernels were 0.4–0.5× PyTorch's at large batches on 2026-12-04 (plain ORT by hand too), worst
# for the 64×64 RGB model; try its layout and algorithm choices on that model, best variant only (uint8, CUDA graphs).
tuned() { # tuned SUFFIX FLAG [VALUE]: emoji-dcgan with one tuning flag
  step "bench-cuda-emoji-dcgan-$1" "$g" bench --model models/emoji-dcgan/model.onnx --providers cuda --batch-sizes "$batches" --outputs uint8 --cuda-graph on \
    --peer "${@:2}" --duration "$seconds" --warmup 3 "${cudaArgs[@]}" --json "$out/bench-cuda-emoji-dcgan-$1.json" --markdown "$out/bench-cuda-emoji-dcgan-$1.md"
}
tuned nhwc --cuda-nhwc
tuned heuristic --cudnn-heuristic
# The sub-pixel rewrite of the last two upsampling layers (GeneratorOptions.SubPixel; 1.6× on the CPU, off on CUDA by
# default until measured): its images on CUDA against the CPU's, then its speed on both models.
step compare-cuda-subpixel "$g" dump --model models/mnist-dcgan/model.onnx --count 64 --seed 42 --out "$out/dump-cuda-subpixel" --provider cuda --no-tf32 --subpixel on "${cudaArgs[@]}" --compare "$out/dump-cpu" --tolerance 1e-3
tuned subpixel --subpixel on
step bench-cuda-mnist-dcgan-subpixel "$g" bench --model models/mnist-dcgan/model.onnx --providers cuda --batch-sizes "$batches" --outputs float --cuda-graph on \
  --subpixel off,on --duration "$seconds" --warmup 3 "${cudaArgs[@]}" --json "$out/bench-cuda-mnist-dcgan-subpixel.json" --markdown "$out/bench-cuda-mnist-dcgan-subpixel.md"
# Images left on the GPU (GenerateOnDevice: no copy to the host, as an app that goes on on the GPU would use them),
# against PyTorch's 'device' rows (torch-mnist-dcgan.json); first run on a GPU.
step bench-cuda-mnist-dcgan-device "$g" bench --model models/mnist-dcgan/model.onnx --providers cuda --batch-sizes "$batches" --outputs device --cuda-graph off,on \
  --duration "$seconds" --warmup 3 "${cudaArgs[@]}" --json "$out/bench-cuda-mnist-dcgan-device.json" --markdown "$out/bench-cuda-mnist-dcgan-device.md"
step files-cuda "$g" generate --model models/mnist-dcgan/model.onnx --count 100000 --batch-size 1024 --out "$out/files-cuda" --provider cuda "${cudaArgs[@]}" --quiet --no-grid
rm -rf "$out/files-cuda" # the figures are in files-cuda.txt; 100,000 PNG files need not come back
# The same with stored PNG files (≈ 6× less encoding per image on the CPU side, which a GPU may leave as the bottleneck).
step files-cuda-stored "$g" generate --model models/mnist-dcgan/model.onnx --count 100000 --batch-size 1024 --out "$out/files-cuda-stored" --provider cuda "${cudaArgs[@]}" --quiet --no-grid --png-compression none
rm -rf "$out/files-cuda-stored"
# What TF32 is worth: the 64×64 RGB model (the largest convolutions) in full float32 on both sides, best variants only.
step bench-cuda-emoji-dcgan-notf32 "$g" bench --model models/emoji-dcgan/model.onnx --providers cuda --batch-sizes "$batches" --outputs uint8 --cuda-graph on \
  --no-tf32 --duration "$seconds" --warmup 3 "${cudaArgs[@]}" --json "$out/bench-cuda-emoji-dcgan-notf32.json" --markdown "$out/bench-cuda-emoji-dcgan-notf32.md"
[ -n "$haveTorch" ] && step torch-emoji-dcgan-notf32 python3 tests/peer/torch_peer.py bench --model models/emoji-dcgan/model.onnx --device cuda --batch-sizes "$batches" \
  --modes graph --precisions fp32 --outputs uint8 --tf32 off --duration "$seconds" --warmup 3 --json "$out/torch-emoji-dcgan-notf32.json"
# fp16: the shipped files are fp32 (ganonnx-train export --fp16 needs the training checkpoint); where the server's Python
# has onnx and ONNX Runtime's converter, make an fp16 copy of mnist-dcgan (float32 inputs and outputs; the latent-class
# selection stays float32, as the exporter's own fp16 pass keeps it) and measure it beside the fp32 rows.
if python3 -c 'import onnx, onnxruntime.transformers.float16' 2>/dev/null; then
  step fp16-convert python3 -c "import onnx; from onnxruntime.transformers.float16 import convert_float_to_float16 as c; m = onnx.load('models/mnist-dcgan/model.onnx'); onnx.save(c(m, keep_io_types=True, op_block_list=['Slice', 'Less', 'Cast', 'ReduceSum', 'Resize']), '$out/mnist-dcgan-fp16.onnx')"
  if [ -f "$out/mnist-dcgan-fp16.onnx" ]; then
    step compare-cuda-fp16 "$g" dump --model "$out/mnist-dcgan-fp16.onnx" --count 64 --seed 42 --out "$out/dump-cuda-fp16" --provider cuda "${cudaArgs[@]}" --compare "$out/dump-cpu" --tolerance 2e-2
    benchCuda mnist-dcgan-fp16 "$out/mnist-dcgan-fp16.onnx"
  fi
else
  echo "FAIL fp16 (no onnx / onnxruntime.transformers in this Python)" | tee -a "$out/failures.txt"
fi
benchBoth "${shipped[@]:2}"
step bench-cpu "$g" bench --model models/mnist-dcgan/model.onnx --providers cpu --batch-sizes 1,64,256 --peer --duration "$seconds" \
  --json "$out/bench-cpu.json" --markdown "$out/bench-cpu.md"
# GanOnnx against PyTorch per model, as ratios of images/s (instant, so outside the budget).
python3 tests/peer/bench_ratios.py "$out" --markdown "$out/ratios.md" > "$out/ratios.txt" 2>&1 || echo "FAIL ratios (see ratios.txt)" | tee -a "$out/failures.txt"
echo "gpu-measure: $(grep -c . "$out/failures.txt") failed or skipped steps; results in $out"
