#!/usr/bin/env python3
"""PyTorch peer for `ganonnx bench`: runs the same generator with the same weights (read from the ONNX file's
initializers, with no `onnx` package needed) in PyTorch, eager and with CUDA graphs or torch.compile, in fp32 and fp16,
and reports images/s and p50/p99 latency per batch size as JSON.

    python3 torch_peer.py bench   --model models/mnist-dcgan/model.onnx [--device cuda] [--batch-sizes 1,64,256,1024,4096,8192]
                                  [--modes eager,graph,compile] [--precisions fp32,fp16] [--outputs float,uint8,device] [--threads N] [--tf32 on|off] [--json out.json]
    python3 torch_peer.py compare --model M.onnx --dump DIR [--device cpu] [--tolerance 1e-4] [--tf32 on|off]

`compare` runs the latents of a `ganonnx dump` folder (latents.f32, labels.i64, images.f32, dump.json) through the
PyTorch model and prints the largest absolute difference from the images ONNX Runtime made; exit 1 above --tolerance.
Supports the operators the GanOnnx exporter writes: Gemm, Conv, ConvTranspose, BatchNormalization, Resize (nearest),
Reshape, Flatten, Concat, Gather, Slice, Less, Cast, ReduceSum, Relu, LeakyRelu, Tanh, Sigmoid, Identity, Constant.
"""
import argparse, json, os, statistics, sys, time

import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- the ONNX file (onnx_file.py, shared with numpy_peer.py)
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_file

_DTYPES = {1: torch.float32, 2: torch.uint8, 6: torch.int32, 7: torch.int64, 9: torch.bool, 10: torch.float16, 11: torch.float64}
_BY_NAME = {onnx_file.DTYPES[k]: v for k, v in _DTYPES.items()}

def _to_torch(t):
    dtype = _BY_NAME[t.dtype]
    if t.raw is not None:
        value = torch.frombuffer(bytearray(t.raw), dtype=dtype).clone() if t.raw else torch.empty(0, dtype=dtype)
    elif t.floats: value = torch.tensor(t.floats, dtype=dtype)
    else: value = torch.tensor(t.ints, dtype=dtype)
    return value.reshape(t.dims)

def load_onnx(path):
    """Nodes, initializers (torch tensors), inputs, outputs and metadata of an ONNX file."""
    return onnx_file.load_onnx(path, _to_torch)

# ---------------------------------------------------------------- the generator as a torch module
class OnnxGenerator(torch.nn.Module):
    """Executes the ONNX graph's nodes in order with torch operators; weights are buffers (move with .to()). Integer
    initializers (shapes, axes, slice bounds) stay on the CPU: they are read as Python numbers, which on the GPU would be a
    device-to-host copy per call, and one that a CUDA graph cannot capture."""

    def __init__(self, path):
        super().__init__()
        self.nodes, inits, self.inputs, self.outputs, self.meta = load_onnx(path)
        self.names, self.host = {}, {}
        for i, (k, v) in enumerate(inits.items()):
            if v.is_floating_point(): self.register_buffer(f"w{i}", v); self.names[k] = f"w{i}"
            else: self.host[k] = v
        for node in self.nodes:
            if node["op"] not in _OPS: raise ValueError(f"{path}: operator {node['op']} is not supported by the peer")

    def forward(self, z, labels=None):
        env = {self.inputs[0]: z}
        if len(self.inputs) > 1: env[self.inputs[1]] = labels
        for k, b in self.names.items(): env[k] = getattr(self, b)
        env.update(self.host)
        for node in self.nodes:
            args = [env[i] if i else None for i in node["inputs"]]
            result = _OPS[node["op"]](args, node["attrs"])
            env[node["outputs"][0]] = result
        return env[self.outputs[0]]

def _conv(args, a, transposed):
    x, w, b = (args + [None])[:3]
    pads = a.get("pads", [0, 0, 0, 0]); strides = a.get("strides", [1, 1]); dil = a.get("dilations", [1, 1])
    if pads[0] != pads[2] or pads[1] != pads[3]:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2])); pads = [0, 0, 0, 0]
    if transposed:
        return F.conv_transpose2d(x, w, b, stride=strides, padding=pads[:2], output_padding=a.get("output_padding", [0, 0]), groups=a.get("group", 1), dilation=dil)
    return F.conv2d(x, w, b, stride=strides, padding=pads[:2], groups=a.get("group", 1), dilation=dil)

def _gemm(args, a):
    x, w = args[0], args[1]
    if a.get("transA", 0): x = x.t()
    w = w.t() if a.get("transB", 0) else w
    y = a.get("alpha", 1.0) * (x @ w)
    if len(args) > 2 and args[2] is not None: y = y + a.get("beta", 1.0) * args[2]
    return y

def _slice(args, a):
    x, starts, ends = args[0], args[1].tolist(), args[2].tolist()
    axes = args[3].tolist() if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    index = [slice(None)] * x.dim()
    for s, e, ax in zip(starts, ends, axes): index[ax] = slice(s, min(e, x.shape[ax]))
    return x[tuple(index)]

def _resize(args, a):
    scales = args[2] if len(args) > 2 and args[2] is not None and args[2].numel() else None
    sizes = args[3].tolist()[2:] if len(args) > 3 and args[3] is not None else None
    return F.interpolate(args[0], scale_factor=None if sizes else [float(s) for s in scales.tolist()[2:]], size=sizes, mode="nearest")

_OPS = {
    "Gemm": _gemm,
    "MatMul": lambda x, a: x[0] @ x[1],
    "Add": lambda x, a: x[0] + x[1], "Sub": lambda x, a: x[0] - x[1], "Mul": lambda x, a: x[0] * x[1], "Div": lambda x, a: x[0] / x[1],
    "Relu": lambda x, a: torch.relu(x[0]),
    "LeakyRelu": lambda x, a: F.leaky_relu(x[0], a.get("alpha", 0.01)),
    "Tanh": lambda x, a: torch.tanh(x[0]), "Sigmoid": lambda x, a: torch.sigmoid(x[0]),
    "Identity": lambda x, a: x[0], "Constant": lambda x, a: a["value"],
    "Reshape": lambda x, a: x[0].reshape([x[0].shape[i] if d == 0 else d for i, d in enumerate(x[1].tolist())]),
    "Flatten": lambda x, a: x[0].flatten(a.get("axis", 1)),
    "Concat": lambda x, a: torch.cat([t.to(x[0].dtype) for t in x], dim=a["axis"]),
    "Gather": lambda x, a: torch.index_select(x[0], a.get("axis", 0), x[1].reshape(-1).long()).reshape(list(x[1].shape) + list(x[0].shape[1:])),
    "Slice": _slice,
    "Less": lambda x, a: x[0] < x[1],
    "Cast": lambda x, a: x[0].to(_DTYPES[a["to"]]),
    "ReduceSum": lambda x, a: x[0].sum(dim=x[1].tolist() if len(x) > 1 and x[1] is not None else a.get("axes"), keepdim=bool(a.get("keepdims", 1))),
    "Conv": lambda x, a: _conv(x, a, False),
    "ConvTranspose": lambda x, a: _conv(x, a, True),
    "BatchNormalization": lambda x, a: F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, a.get("epsilon", 1e-5)),
    "Resize": _resize,
}

# ---------------------------------------------------------------- bench and compare
def value_range(meta):
    text = meta.get("ganonnx.value_range", "-1,1")
    lo, hi = (float(v) for v in text.split(","))
    return lo, hi

def make_runner(model, batch, device, mode, precision, output, meta):
    latent = model.inputs and int(meta.get("ganonnx.latent_dim", 100))
    classes = int(meta.get("ganonnx.num_classes", 0))
    dtype = torch.float16 if precision == "fp16" else torch.float32
    lo, hi = value_range(meta)
    net = model.to(device=device)
    if precision == "fp16": net = net.half()
    host = torch.empty((batch, int(meta.get("ganonnx.channels", 1)), int(meta.get("ganonnx.height", 28)), int(meta.get("ganonnx.width", 28))),
                       dtype=torch.uint8 if output == "uint8" else torch.float32, pin_memory=device.startswith("cuda"))
    labels = (torch.arange(batch, device=device) % classes) if classes else None

    def step(z):
        with torch.no_grad():
            y = net(z.to(dtype), labels)
            if output == "uint8":
                y = ((y.float() - lo) / (hi - lo) * 255 + 0.5).clamp(0, 255).to(torch.uint8)
            else:
                y = y.float()
            return y

    if mode == "compile":
        step = torch.compile(step, mode="reduce-overhead")
    if mode == "graph":
        static_z = torch.randn(batch, latent, device=device)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3): step(static_z)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_z.normal_()
            static_out = step(static_z)

        def run():
            graph.replay()
            if output != "device": host.copy_(static_out, non_blocking=True)
    else:
        def run():
            z = torch.randn(batch, latent, device=device)
            y = step(z)
            if output != "device": host.copy_(y, non_blocking=True)
    return run

def set_tf32(device, mode):
    """TF32 tensor cores for float32 convolutions and matrix products ("on": as ONNX Runtime's CUDA provider does by
    default; PyTorch's own default allows them for convolutions only), or full float32 ("off")."""
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = mode == "on"

def bench(args):
    set_tf32(args.device, args.tf32)
    model_path = args.model
    meta = load_onnx(model_path)[4]
    if args.threads: torch.set_num_threads(args.threads)
    rows = []
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    for precision in args.precisions.split(","):
        for mode in args.modes.split(","):
            if mode == "graph" and not args.device.startswith("cuda"): continue
            for output in args.outputs.split(","):
                if output == "device" and not args.device.startswith("cuda"): continue
                for batch in [int(b) for b in args.batch_sizes.split(",")]:
                    model = OnnxGenerator(model_path)
                    try:
                        run = make_runner(model, batch, args.device, mode, precision, output, meta)
                        for _ in range(args.warmup): run()
                        sync()
                        latencies, start = [], time.perf_counter()
                        while len(latencies) < 10 or (time.perf_counter() - start < args.duration and len(latencies) < args.max_iterations):
                            t0 = time.perf_counter(); run(); sync(); latencies.append((time.perf_counter() - t0) * 1000)
                    except Exception as e:  # report and go on (an out-of-memory batch, a mode this PyTorch lacks)
                        print(f"skipped {mode} {precision} {output} batch {batch}: {type(e).__name__}: {e}", file=sys.stderr)
                        continue
                    lat = sorted(latencies)
                    row = {
                        "target": f"pytorch-{mode}", "model": os.path.basename(model_path), "precision": precision, "output": output,
                        "batch": batch, "calls": len(lat), "p50_ms": lat[len(lat) // 2], "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
                        "images_per_second": batch * len(lat) / (sum(lat) / 1000),
                        "gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None,
                    }
                    rows.append(row)
                    print(f"{row['target']:16} {precision:5} {output:6} batch {batch:5}  p50 {row['p50_ms']:9.3f} ms  p99 {row['p99_ms']:9.3f} ms  {row['images_per_second']:12.0f} images/s", flush=True)
                    del model
                    if args.device.startswith("cuda"): torch.cuda.empty_cache()
    record = {
        "peer": "pytorch", "torch": torch.__version__, "device": args.device,
        "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None, "threads": torch.get_num_threads(),
        "tf32": args.tf32 == "on" if args.device.startswith("cuda") else None,
        "note": "latents drawn on the device (torch.randn); outputs copied to pinned host memory each call, except 'device' rows (float32 left on the GPU)", "results": rows,
    }
    if args.json:
        with open(args.json, "w") as fh: json.dump(record, fh, indent=2)

def compare(args):
    set_tf32(args.device, args.tf32)
    info, latents, label_bytes, image_bytes = onnx_file.read_dump(args.dump)
    count, latent = info["count"], info["latent_dim"]
    z = torch.frombuffer(bytearray(latents), dtype=torch.float32).reshape(count, latent)
    labels = None if label_bytes is None else torch.frombuffer(bytearray(label_bytes), dtype=torch.int64)
    reference = torch.frombuffer(bytearray(image_bytes), dtype=torch.float32)
    model = OnnxGenerator(args.model).to(args.device).eval()
    with torch.no_grad():
        images = model(z.to(args.device), None if labels is None else labels.to(args.device)).float().cpu().reshape(-1)
    diff = (images - reference).abs().max().item()
    verdict = "ok" if diff <= args.tolerance else f"over the tolerance {args.tolerance:g}"
    print(f"pytorch ({args.device}) against {info['provider']} ({args.dump}): max abs difference {diff:.3g} over {count} images: {verdict}")
    return 0 if diff <= args.tolerance else 1

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True); b.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    b.add_argument("--batch-sizes", default="1,64,256,1024,4096,8192"); b.add_argument("--modes", default="eager,graph")
    b.add_argument("--precisions", default="fp32,fp16"); b.add_argument("--outputs", default="float,uint8")
    b.add_argument("--duration", type=float, default=3.0); b.add_argument("--warmup", type=int, default=10)
    b.add_argument("--max-iterations", type=int, default=10000); b.add_argument("--json")
    b.add_argument("--threads", type=int, default=0, help="CPU threads (torch.set_num_threads; 0: PyTorch's default)")
    for q in (b, c := sub.add_parser("compare")):
        q.add_argument("--tf32", choices=["on", "off"], default="on", help="CUDA: TF32 tensor cores for float32 convolutions and matmuls (as ONNX Runtime's default), or full float32")
    c.add_argument("--model", required=True); c.add_argument("--dump", required=True)
    c.add_argument("--device", default="cpu"); c.add_argument("--tolerance", type=float, default=1e-4)
    args = p.parse_args()
    if args.command == "bench": bench(args); return 0
    return compare(args)

if __name__ == "__main__":
    sys.exit(main())
