#!/usr/bin/env bash
# Makes the offline GPU bundle: a self-contained linux-x64 `ganonnx` with ONNX Runtime's CUDA provider, for a GPU server
# that has no .NET SDK and no internet. It needs the NVIDIA driver and the CUDA 13 / cuDNN 9 libraries there (system-wide,
# or from a Python environment's nvidia-* wheels: point GANONNX_CUDA_PATH or --cuda-path at site-packages/nvidia).
# Usage: build/scripts/gpu-bundle.sh [OUT_DIR]   (default artifacts/ganonnx-gpu-linux-x64, plus a .tar.gz beside it)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-artifacts/ganonnx-gpu-linux-x64}"
rm -rf "$out"
dotnet publish runtime/GanOnnx.Cli -c Release -r linux-x64 --self-contained -p:OnnxRuntimeFlavor=Gpu -o "$out" -nologo -v q
# Debug symbols and XML docs are not needed on the server.
find "$out" -maxdepth 1 \( -name '*.pdb' -o -name '*.xml' \) -delete
test -x "$out/ganonnx" && test -f "$out/libonnxruntime_providers_cuda.so" || { echo "gpu-bundle: $out lacks ganonnx or the CUDA provider" >&2; exit 1; }
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
echo "gpu-bundle: $out ($(du -sh "$out" | cut -f1)) and $out.tar.gz ($(du -sh "$out.tar.gz" | cut -f1))"
