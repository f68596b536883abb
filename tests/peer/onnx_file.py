"""A minimal reader of ONNX files for the peers (torch_peer.py, numpy_peer.py): nodes, initializers, graph inputs and
outputs and metadata, with no `onnx` package needed. Field numbers are those of onnx.proto (ModelProto 7 graph,
14 metadata_props; GraphProto 1 node, 5 initializer, 11 input, 12 output; NodeProto 1 input, 2 output, 4 op_type,
5 attribute; TensorProto 1 dims, 2 data_type, 4 float_data, 7 int64_data, 8 name, 9 raw_data, 13 external_data;
AttributeProto 1 name, 2 f, 3 i, 4 s, 5 t, 8 ints, 20 type). Tensors come back as `Tensor` records; each peer turns
them into its own arrays with `to_array`."""
import os, struct
from collections import namedtuple

# data_type → (struct/numpy code, torch name) for the types the GanOnnx exporter and runtime write
DTYPES = {1: "float32", 2: "uint8", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64"}

Tensor = namedtuple("Tensor", "dtype dims raw floats ints")  # dtype: a DTYPES name; raw: bytes or None

def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7F) << s; s += 7
        if c < 0x80: return r, i

def _fields(b):
    i, out = 0, []
    while i < len(b):
        t, i = _varint(b, i); f, w = t >> 3, t & 7
        if w == 0: v, i = _varint(b, i)
        elif w == 2:
            n, i = _varint(b, i)
            if i + n > len(b): raise ValueError("corrupt ONNX file (a field runs past the end)")
            v = b[i:i + n]; i += n
        elif w == 5: v = b[i:i + 4]; i += 4
        elif w == 1: v = b[i:i + 8]; i += 8
        else: raise ValueError(f"corrupt ONNX file (wire type {w})")
        out.append((f, w, v))
    return out

def _packed_varints(v, w):
    if w == 0: return [v]
    out, i = [], 0
    while i < len(v): x, i = _varint(v, i); out.append(x)
    return out

def _signed(x): return x - (1 << 64) if x >= 1 << 63 else x

def _tensor(b, folder):
    dims, dtype, name, raw, floats, ints, external = [], 1, "", None, [], [], {}
    for f, w, v in _fields(b):
        if f == 1: dims += [_signed(x) for x in _packed_varints(v, w)]
        elif f == 2: dtype = v
        elif f == 4: floats += list(struct.unpack(f"<{len(v) // 4}f", v)) if w == 2 else [struct.unpack("<f", v)[0]]
        elif f == 7: ints += [_signed(x) for x in _packed_varints(v, w)]
        elif f == 8: name = v.decode()
        elif f == 9: raw = bytes(v)
        elif f == 13:
            kv = {ff: vv.decode() for ff, _, vv in _fields(v)}
            external[kv.get(1)] = kv.get(2)
    if external:
        with open(os.path.join(folder, external["location"]), "rb") as fh:
            fh.seek(int(external.get("offset", 0))); raw = fh.read(int(external["length"]))
    if dtype not in DTYPES: raise ValueError(f"tensor {name!r}: data type {dtype} is not supported by the peer")
    return name, Tensor(DTYPES[dtype], dims, raw, floats, ints)

def _attribute(b, folder):
    name, value = None, None
    fields = _fields(b)
    kind = next((v for f, _, v in fields if f == 20), None)
    ints = []
    for f, w, v in fields:
        if f == 1: name = v.decode()
        elif f == 2: value = struct.unpack("<f", v)[0]
        elif f == 3: value = _signed(v)
        elif f == 4: value = v.decode()
        elif f == 5: value = _tensor(v, folder)[1]
        elif f == 8: ints += [_signed(x) for x in _packed_varints(v, w)]
    if kind == 7: value = ints
    if value is None: value = {1: 0.0, 2: 0, 3: ""}.get(kind)  # proto3 writers omit zero values
    return name, value

def load_onnx(path, to_array):
    """Nodes, initializers, inputs, outputs and metadata of an ONNX file; `to_array(Tensor)` makes each tensor
    (initializers and tensor attributes such as Constant's value) into the caller's array type."""
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, "rb") as fh: data = fh.read()
    nodes, inits, inputs, outputs, meta = [], {}, [], [], {}
    for f, _, v in _fields(data):
        if f == 14:
            kv = {ff: vv.decode() for ff, _, vv in _fields(v)}
            meta[kv.get(1)] = kv.get(2)
        if f != 7: continue
        for g, _, item in _fields(v):
            if g == 1:
                node = {"inputs": [], "outputs": [], "attrs": {}}
                for h, _, x in _fields(item):
                    if h == 1: node["inputs"].append(x.decode())
                    elif h == 2: node["outputs"].append(x.decode())
                    elif h == 4: node["op"] = x.decode()
                    elif h == 5:
                        k, val = _attribute(x, folder)
                        node["attrs"][k] = to_array(val) if isinstance(val, Tensor) else val
                nodes.append(node)
            elif g == 5:
                k, val = _tensor(item, folder); inits[k] = to_array(val)
            elif g in (11, 12):
                name = next(x.decode() for h, _, x in _fields(item) if h == 1)
                (inputs if g == 11 else outputs).append(name)
    if not nodes: raise ValueError(f"{path}: no graph nodes (not an ONNX model?)")
    inputs = [i for i in inputs if i not in inits]
    return nodes, inits, inputs, outputs, meta

def read_dump(folder):
    """A `ganonnx dump` folder: (info from dump.json, latents bytes, labels bytes or None, images bytes)."""
    import json
    with open(os.path.join(folder, "dump.json")) as fh: info = json.load(fh)
    def read(name):
        path = os.path.join(folder, name)
        if not os.path.exists(path): return None
        with open(path, "rb") as fh: return fh.read()
    return info, read("latents.f32"), read("labels.i64"), read("images.f32")
