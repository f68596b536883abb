#!/usr/bin/env python3
"""A second ONNX runtime for GanOnnx models: an independent NumPy interpreter of the operators the exporter writes,
written from the ONNX operator specification (no ONNX Runtime code), computing in float64.

    python3 numpy_peer.py compare --model M.onnx --dump DIR [--tolerance 1e-4]
    python3 numpy_peer.py check   --model M.onnx

`compare` runs the latents (and labels) of a `ganonnx dump` folder through the graph and prints the largest absolute
difference from the images ONNX Runtime made; exit 1 above --tolerance. `check` runs the `onnx` package's checker
(full check, with shape inference) where that package is installed.

Operators: Gemm, MatMul, Add, Sub, Mul, Div, Conv, ConvTranspose, BatchNormalization, Resize (nearest), Reshape,
Flatten, Concat, Gather, Slice, Less, Cast, ReduceSum, Relu, LeakyRelu, Tanh, Sigmoid, Identity, Constant. Anything
else is refused by name.
"""
import argparse, os, sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_file

_NUMPY = {"float32": np.float32, "uint8": np.uint8, "int32": np.int32, "int64": np.int64, "bool": np.bool_,
          "float16": np.float16, "float64": np.float64}
_CAST = {code: _NUMPY[name] for code, name in onnx_file.DTYPES.items()}  # Cast's `to` is an ONNX data type number


def _to_numpy(t):
    dtype = _NUMPY[t.dtype]
    if t.raw is not None: value = np.frombuffer(t.raw, dtype=dtype).copy()
    else: value = np.array(t.floats if t.floats else t.ints, dtype=dtype)
    value = value.reshape(t.dims)
    return value.astype(np.float64) if value.dtype.kind == "f" else value


def _pads(a, spatial=2):
    pads = a.get("pads", [0] * (2 * spatial))
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", ""): raise ValueError(f"auto_pad {a['auto_pad']} is not supported")
    return pads[:spatial], pads[spatial:]


def _conv(args, a):
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 and args[2] is not None else None
    if a.get("group", 1) != 1: raise ValueError("Conv with group > 1 is not supported")
    (pt, pl), (pb, pr) = _pads(a)
    sh, sw = a.get("strides", [1, 1]); dh, dw = a.get("dilations", [1, 1])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    kh, kw = w.shape[2], w.shape[3]
    oh = (x.shape[2] - ((kh - 1) * dh + 1)) // sh + 1
    ow = (x.shape[3] - ((kw - 1) * dw + 1)) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, w.shape[0]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
            y += np.tensordot(patch, w[:, :, i, j], axes=([1], [1]))
    y = y.transpose(0, 3, 1, 2)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _conv_transpose(args, a):
    # y[b, o, i·s + k·d − pad_begin] += x[b, c, i] · w[c, o, k]  (ONNX ConvTranspose, group 1)
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 and args[2] is not None else None
    if a.get("group", 1) != 1: raise ValueError("ConvTranspose with group > 1 is not supported")
    if "output_shape" in a: raise ValueError("ConvTranspose with output_shape is not supported")
    (pt, pl), (pb, pr) = _pads(a)
    sh, sw = a.get("strides", [1, 1]); dh, dw = a.get("dilations", [1, 1])
    oph, opw = a.get("output_padding", [0, 0])
    n, _, h, wi = x.shape
    kh, kw = w.shape[2], w.shape[3]
    full_h = sh * (h - 1) + (kh - 1) * dh + 1 + oph
    full_w = sw * (wi - 1) + (kw - 1) * dw + 1 + opw
    full = np.zeros((n, w.shape[1], full_h, full_w))
    for i in range(kh):
        for j in range(kw):
            contribution = np.tensordot(x, w[:, :, i, j], axes=([1], [0])).transpose(0, 3, 1, 2)
            full[:, :, i * dh:i * dh + sh * (h - 1) + 1:sh, j * dw:j * dw + sw * (wi - 1) + 1:sw] += contribution
    y = full[:, :, pt:full_h - pb, pl:full_w - pr]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _gemm(args, a):
    x, w = args[0], args[1]
    if a.get("transA", 0): x = x.T
    if a.get("transB", 0): w = w.T
    y = a.get("alpha", 1.0) * (x @ w)
    if len(args) > 2 and args[2] is not None: y = y + a.get("beta", 1.0) * args[2]
    return y


def _reshape(args, a):
    x, shape = args[0], [int(d) for d in args[1]]
    if not a.get("allowzero", 0): shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _slice(args, a):
    x, starts, ends = args[0], [int(v) for v in args[1]], [int(v) for v in args[2]]
    axes = [int(v) for v in args[3]] if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    steps = [int(v) for v in args[4]] if len(args) > 4 and args[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        if st != 1: raise ValueError("Slice with steps other than 1 is not supported")
        size = x.shape[ax]
        s = max(0, min(size, s + size if s < 0 else s)); e = max(0, min(size, e + size if e < 0 else e))
        index[ax] = slice(s, e)
    return x[tuple(index)]


def _resize(args, a):
    x = args[0]
    if a.get("mode", "nearest") != "nearest": raise ValueError(f"Resize mode {a['mode']} is not supported")
    if a.get("coordinate_transformation_mode", "half_pixel") != "asymmetric" or a.get("nearest_mode", "round_prefer_floor") != "floor":
        raise ValueError("Resize: only nearest, asymmetric, floor (PyTorch's nearest upsampling) is supported")
    sizes = args[3] if len(args) > 3 and args[3] is not None and args[3].size else None
    scales = args[2] if len(args) > 2 and args[2] is not None and args[2].size else None
    out = [int(v) for v in sizes] if sizes is not None else [int(np.floor(d * s)) for d, s in zip(x.shape, scales)]
    scale = [o / d for o, d in zip(out, x.shape)] if scales is None else [float(s) for s in scales]
    for axis in range(x.ndim):
        if out[axis] == x.shape[axis] and scale[axis] == 1: continue
        source = np.minimum(np.floor(np.arange(out[axis]) / scale[axis]).astype(np.int64), x.shape[axis] - 1)
        x = np.take(x, source, axis=axis)
    return x


def _reduce_sum(args, a):
    axes = [int(v) for v in args[1]] if len(args) > 1 and args[1] is not None else a.get("axes")
    return np.sum(args[0], axis=None if axes is None else tuple(axes), keepdims=bool(a.get("keepdims", 1)))


def _batch_norm(args, a):
    x, scale, bias, mean, var = args[:5]
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + a.get("epsilon", 1e-5)) * scale.reshape(shape) + bias.reshape(shape)


def _cast(args, a):
    t = _CAST[a["to"]]
    y = args[0].astype(t)
    return y.astype(np.float64) if y.dtype.kind == "f" else y


_OPS = {
    "Gemm": _gemm,
    "MatMul": lambda x, a: x[0] @ x[1],
    "Add": lambda x, a: x[0] + x[1], "Sub": lambda x, a: x[0] - x[1], "Mul": lambda x, a: x[0] * x[1], "Div": lambda x, a: x[0] / x[1],
    "Relu": lambda x, a: np.maximum(x[0], 0),
    "LeakyRelu": lambda x, a: np.where(x[0] >= 0, x[0], a.get("alpha", 0.01) * x[0]),
    "Tanh": lambda x, a: np.tanh(x[0]),
    "Sigmoid": lambda x, a: 1 / (1 + np.exp(-x[0])),
    "Identity": lambda x, a: x[0], "Constant": lambda x, a: a["value"],
    "Reshape": _reshape,
    "Flatten": lambda x, a: x[0].reshape(int(np.prod(x[0].shape[:a.get("axis", 1)])), -1),
    "Concat": lambda x, a: np.concatenate(x, axis=a["axis"]),
    "Gather": lambda x, a: np.take(x[0], x[1], axis=a.get("axis", 0)),
    "Slice": _slice,
    "Less": lambda x, a: x[0] < x[1],
    "Cast": _cast,
    "ReduceSum": _reduce_sum,
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm,
    "Resize": _resize,
}


class NumpyGenerator:
    """Executes the ONNX graph's nodes in order (the exporter writes them topologically sorted, as ONNX requires)."""

    def __init__(self, path):
        self.nodes, self.inits, self.inputs, self.outputs, self.meta = onnx_file.load_onnx(path, _to_numpy)
        unknown = sorted({n["op"] for n in self.nodes if n["op"] not in _OPS})
        if unknown: raise ValueError(f"{path}: operator(s) {', '.join(unknown)} not supported by the NumPy peer")

    def __call__(self, z, labels=None):
        env = dict(self.inits)
        env[self.inputs[0]] = z.astype(np.float64)
        if len(self.inputs) > 1:
            if labels is None: raise ValueError("the model is conditional; the dump has no labels.i64")
            env[self.inputs[1]] = labels
        for node in self.nodes:
            args = [env[i] if i else None for i in node["inputs"]]
            env[node["outputs"][0]] = _OPS[node["op"]](args, node["attrs"])
        return env[self.outputs[0]]


def compare(args):
    info, latents, label_bytes, image_bytes = onnx_file.read_dump(args.dump)
    count, latent = info["count"], info["latent_dim"]
    z = np.frombuffer(latents, dtype=np.float32).reshape(count, latent)
    labels = None if label_bytes is None else np.frombuffer(label_bytes, dtype=np.int64)
    reference = np.frombuffer(image_bytes, dtype=np.float32).astype(np.float64)
    images = NumpyGenerator(args.model)(z, labels).reshape(-1)
    if images.size != reference.size:
        print(f"numpy against {info['provider']} ({args.dump}): {images.size} values against {reference.size}: not the same model")
        return 1
    diff = float(np.abs(images - reference).max())
    verdict = "ok" if diff <= args.tolerance else f"over the tolerance {args.tolerance:g}"
    print(f"numpy (float64) against {info['provider']} ({args.dump}): max abs difference {diff:.3g} over {count} images: {verdict}")
    return 0 if diff <= args.tolerance else 1


def check(args):
    try:
        import onnx
    except ImportError:
        print("the onnx package is not installed: checker skipped (Debian: python3-onnx)")
        return 0
    # On the loaded model, never on the path: given a path, onnx 1.12's full check writes the inferred shapes back into
    # the file (shape_inference.infer_shapes_path with no output path).
    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    print(f"onnx {onnx.__version__} checker (full, with shape inference): {args.model} is valid "
          f"(IR {model.ir_version}, opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--model", required=True); c.add_argument("--dump", required=True)
    c.add_argument("--tolerance", type=float, default=1e-4)
    k = sub.add_parser("check")
    k.add_argument("--model", required=True)
    args = p.parse_args()
    try:
        return compare(args) if args.command == "compare" else check(args)
    except (ValueError, OSError, KeyError) as e:
        print(f"numpy_peer: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
