#!/usr/bin/env python3
"""Zero the GPU code a CUDA library carries for other architectures, so that it compresses to a fraction.

ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, 284 MB) carries its kernels for seven GPU architectures
in the ELF section .nv_fatbin (218 MB). A GPU uses one of them. This script walks the fat binary containers of that
section and, in every container that has an ELF (cubin) entry for the architecture kept, overwrites the payloads of the
container's other entries (other architectures' cubins and all PTX) with zeros. Containers without such an entry are
left whole. Headers, sizes and every offset stay as they are, so the file is still a valid ELF of the same size and the
CUDA driver still finds the kept cubin where it was; the zeros compress to almost nothing.

Usage: fatbin-keep-arch.py LIBRARY SM [--out OUT] [--dry-run]     e.g. fatbin-keep-arch.py libonnxruntime_providers_cuda.so 90

The fat binary layout (16-byte container header with magic 0xBA55ED50 and the size of what follows; entries of
64/80/112-byte headers followed by their 8-byte-aligned payloads) is the one documented by cuobjdump's readers.
Exit status: 0 on success, 1 on a file that is not a 64-bit little-endian ELF with a .nv_fatbin section, or on a
container that does not parse (nothing is written then).
"""
import argparse
import shutil
import struct
import sys

MAGIC = 0xBA55ED50
ELF_KINDS = (0x02, 0x10)


def fatbin_section(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    for i in range(shnum):
        name, _, _, _, offset, size, *_ = header(i)
        start = strtab[4] + name
        if data[start:data.index(b"\0", start)] == b".nv_fatbin":
            return offset, size
    raise ValueError("no .nv_fatbin section")


def containers(data, start, end):
    """Yields (container offset, [(entry offset, header size, kind, sm, data offset, data size, aligned size)])."""
    at = start
    while at + 16 <= end:
        magic, _, _, size = struct.unpack_from("<IHHQ", data, at)
        if magic != MAGIC:
            at += 8  # containers are 8-byte aligned in the section; skip padding
            continue
        stop = at + 16 + size
        if stop > end:
            raise ValueError(f"container at {at:#x} runs past the section")
        entries, e = [], at + 16
        while e + 64 <= stop:
            kind, _, header, aligned, _, size_, _, _, sm = struct.unpack_from("<HHIIIIIII", data, e)
            if header == 0:
                break
            if header not in (64, 80, 112) or e + header + aligned > stop:
                raise ValueError(f"entry at {e:#x} does not parse (header {header}, payload {aligned})")
            entries.append((e, header, kind, sm, e + header, size_, aligned))
            e += header + aligned
        yield at, entries
        at = stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("library")
    parser.add_argument("sm", type=int, help="the architecture kept, e.g. 90 for H100/H200")
    parser.add_argument("--out", help="write here instead of in place")
    parser.add_argument("--dry-run", action="store_true", help="only report")
    args = parser.parse_args()
    try:
        data = bytearray(open(args.library, "rb").read())
        start, size = fatbin_section(data)
        kept = zeroed = whole = entries_zeroed = 0
        archs = {}
        plan = []
        for _, entries in containers(data, start, start + size):
            for _, _, kind, sm, _, _, _ in entries:
                archs[(kind, sm)] = archs.get((kind, sm), 0) + 1
            if not any(kind in ELF_KINDS and sm == args.sm for _, _, kind, sm, _, _, _ in entries):
                whole += 1
                continue
            for _, _, kind, sm, offset, _, aligned in entries:
                if kind in ELF_KINDS and sm == args.sm:
                    kept += aligned
                else:
                    plan.append((offset, aligned))
                    zeroed += aligned
                    entries_zeroed += 1
    except (OSError, ValueError, struct.error) as error:
        print(f"fatbin-keep-arch: {args.library}: {error}", file=sys.stderr)
        return 1
    for offset, aligned in plan:
        data[offset:offset + aligned] = bytes(aligned)
    names = ", ".join(f"{'PTX' if k == 1 else 'ELF'} sm_{sm}: {n}" for (k, sm), n in sorted(archs.items(), key=lambda kv: (kv[0][1], kv[0][0])))
    print(f"{args.library}: .nv_fatbin {size / 2**20:.0f} MiB; entries {names}")
    print(f"kept sm_{args.sm} cubins {kept / 2**20:.1f} MiB, zeroed {entries_zeroed} other entries ({zeroed / 2**20:.1f} MiB), "
          f"{whole} containers without an sm_{args.sm} cubin left whole")
    if not args.dry_run:
        target = args.out or args.library
        with open(target + ".partial", "wb") as f:
            f.write(data)
        shutil.copymode(args.library, target + ".partial")
        shutil.move(target + ".partial", target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
