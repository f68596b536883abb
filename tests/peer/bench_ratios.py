#!/usr/bin/env python3
"""GanOnnx against PyTorch on the same model and device, as ratios of images/s, from the JSON both benchmarks write.

    python3 bench_ratios.py DIR                         # a gpu-measure.sh folder: each bench-cuda-NAME.json with torch-NAME.json
                                                        # (a GanOnnx-only variant, NAME-nhwc, with torch-NAME.json)
                                                        # (and bench-cuda-NAME-fp16.json, GanOnnx on an fp16 file, if there)
    python3 bench_ratios.py --ganonnx G.json --pytorch T.json [--ganonnx-fp16 G16.json] [--name NAME]
    ... [--markdown ratios.md]

For every output (float, uint8) and batch size both ran, one row: GanOnnx's best fp32 images/s (CUDA graph off or on,
whichever was faster), plain ONNX Runtime's, PyTorch's eager and CUDA-graph fp32, and GanOnnx's fp32 against PyTorch's
best fp32; then the same for fp16 where both have it. A ratio above 1 means GanOnnx is faster. Needs only Python 3.
"""
import argparse, glob, json, os, sys

def load_ganonnx(path):
    """The rows of a `ganonnx bench --json` record: {"tool": "ganonnx bench", "results": [...], ...}, or the bare list of
    rows that records written before 2026-12-04 hold."""
    with open(path) as fh: record = json.load(fh)
    if isinstance(record, dict) and record.get("tool") == "ganonnx bench": record = record.get("results")
    if not isinstance(record, list): raise ValueError(f"{path}: not a `ganonnx bench --json` file (expected its record or a list of rows)")
    return record

def load_pytorch(path):
    with open(path) as fh: record = json.load(fh)
    if not isinstance(record, dict) or record.get("peer") != "pytorch": raise ValueError(f"{path}: not a `torch_peer.py bench --json` file")
    return record

def best(rows, **match):
    """The fastest row whose fields equal `match` (None when there is none)."""
    hits = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    return max(hits, key=lambda r: r["images_per_second"], default=None)

def ours(rows, output, batch, plain=False):
    """GanOnnx's fastest row (or, with plain, the plain ONNX Runtime peer's) for one output and batch size."""
    hits = [r for r in rows if r.get("output") == output and r.get("batch") == batch and r["target"].startswith("plain-") == plain]
    return max(hits, key=lambda r: r["images_per_second"], default=None)

def fmt(row): return "-" if row is None else f"{row['images_per_second']:,.0f}"
def ratio(a, b): return "-" if a is None or b is None or b["images_per_second"] <= 0 else f"{a['images_per_second'] / b['images_per_second']:.2f}×"
def variant(row):
    """What GanOnnx's row ran besides the defaults: " (graph)", " (sub-pixel)" or both."""
    parts = [] if row is None else [name for name, on in (("graph", row.get("cuda_graph")), ("sub-pixel", row.get("sub_pixel"))) if on]
    return f" ({', '.join(parts)})" if parts else ""

def table(name, ganonnx, pytorch, ganonnx_fp16=None):
    """Markdown lines for one model."""
    torch_rows = pytorch["results"]
    devices = {r["target"].rsplit("-", 1)[-1] for r in ganonnx + (ganonnx_fp16 or [])}
    torch_device = "cuda" if str(pytorch.get("device", "")).startswith("cuda") else "cpu"
    if devices != {torch_device}:
        raise ValueError(f"{name}: GanOnnx ran on {', '.join(sorted(devices))} and PyTorch on {torch_device}; compare the same device")
    where = pytorch.get("gpu") or pytorch.get("device")
    ours_tf32 = {r.get("tf32") for r in ganonnx + (ganonnx_fp16 or []) if r.get("tf32") is not None}
    theirs_tf32 = pytorch.get("tf32")
    if theirs_tf32 is not None and ours_tf32 and ours_tf32 != {theirs_tf32}:
        raise ValueError(f"{name}: GanOnnx ran with TF32 {'on' if True in ours_tf32 else 'off'} and PyTorch with TF32 {'on' if theirs_tf32 else 'off'}; compare the same float32 math")
    math = "" if theirs_tf32 is None else f", TF32 {'on' if theirs_tf32 else 'off'}"
    lines = [f"### {name}: GanOnnx against PyTorch {pytorch.get('torch')} on {where}{math} (images/s; ratio > 1: GanOnnx faster)", "",
             "| output | batch | GanOnnx fp32 | plain ORT fp32 | PyTorch eager fp32 | PyTorch graph fp32 | GanOnnx ÷ best PyTorch fp32 | GanOnnx fp16 | PyTorch best fp16 | GanOnnx ÷ best PyTorch fp16 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    pairs = sorted({(r["output"], r["batch"]) for r in ganonnx} & {(r["output"], r["batch"]) for r in torch_rows},
                   key=lambda p: (p[0] != "float", p[1]))
    if not pairs: raise ValueError(f"{name}: the two benchmarks share no (output, batch size) row")
    for output, batch in pairs:
        g = ours(ganonnx, output, batch)
        eager = best(torch_rows, target="pytorch-eager", precision="fp32", output=output, batch=batch)
        graph = best(torch_rows, target="pytorch-graph", precision="fp32", output=output, batch=batch)
        top32 = best(torch_rows, precision="fp32", output=output, batch=batch)
        g16 = ours(ganonnx_fp16, output, batch) if ganonnx_fp16 else None
        top16 = best(torch_rows, precision="fp16", output=output, batch=batch)
        lines.append(f"| {output} | {batch} | {fmt(g)}{variant(g)} | {fmt(ours(ganonnx, output, batch, plain=True))} | {fmt(eager)} | {fmt(graph)} | "
                     f"{ratio(g, top32)} | {fmt(g16)}{variant(g16)} | {fmt(top16)} | {ratio(g16, top16)} |")
    return lines

def from_folder(folder):
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "bench-cuda-*.json"))):
        name = os.path.basename(path)[len("bench-cuda-"):-len(".json")]
        if name.endswith("-fp16"): continue
        # A variant of GanOnnx only (bench-cuda-emoji-dcgan-nhwc) is compared with the model's own PyTorch record
        # (torch-emoji-dcgan) when it has none of its own; table() still refuses records of different float32 math.
        parts = name.split("-")
        candidates = [os.path.join(folder, f"torch-{'-'.join(parts[:n])}.json") for n in range(len(parts), 0, -1)]
        peer = next((c for c in candidates if os.path.exists(c)), None)
        if peer is None:
            print(f"{name}: no {os.path.basename(candidates[0])} beside {os.path.basename(path)}; no ratio", file=sys.stderr)
            continue
        fp16 = os.path.join(folder, f"bench-cuda-{name}-fp16.json")
        found.append((name, path, peer, fp16 if os.path.exists(fp16) else None))
    return found

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", nargs="?"); p.add_argument("--ganonnx"); p.add_argument("--pytorch"); p.add_argument("--ganonnx-fp16")
    p.add_argument("--name", default="model"); p.add_argument("--markdown")
    args = p.parse_args()
    if args.folder:
        jobs = from_folder(args.folder)
        if not jobs: print(f"bench_ratios: no bench-cuda-NAME.json with its torch-NAME.json in {args.folder}", file=sys.stderr); return 1
    elif args.ganonnx and args.pytorch:
        jobs = [(args.name, args.ganonnx, args.pytorch, args.ganonnx_fp16)]
    else:
        p.error("give a gpu-measure.sh folder, or --ganonnx and --pytorch")
    lines = []
    try:
        for name, g, t, g16 in jobs:
            lines += table(name, load_ganonnx(g), load_pytorch(t), load_ganonnx(g16) if g16 else None) + [""]
    except (OSError, ValueError, KeyError) as e:
        print(f"bench_ratios: {e}", file=sys.stderr); return 1
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh: fh.write(text)
    return 0

if __name__ == "__main__":
    sys.exit(main())
