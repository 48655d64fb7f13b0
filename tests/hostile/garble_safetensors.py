"""Writes a damaged copy of a safetensors file, one damage per case name, for the hostile-input
suite. The layout is: 8-byte little-endian header length, JSON header, tensor bytes."""
import json
import math
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def pack(header, body, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def first_tensor(header):
    return sorted(k for k in header if k != "__metadata__")[0]


def largest_f32(header):
    names = [k for k in header if k != "__metadata__" and header[k]["dtype"] == "F32"]
    return max(names, key=lambda k: header[k]["data_offsets"][1] - header[k]["data_offsets"][0])


def main(source, target, case):
    header, body = read(source)
    name = first_tensor(header)
    entry = header[name]
    begin, end = entry["data_offsets"]
    out = None
    if case == "length-past-end":
        out = struct.pack("<Q", 1 << 40) + open(source, "rb").read()[8:]
    elif case == "length-zero":
        out = struct.pack("<Q", 0) + open(source, "rb").read()[8:]
    elif case == "header-not-json":
        out = pack(None, body, b"{not json" + b" " * 40)
    elif case == "header-array":
        out = pack(None, body, b"[1, 2, 3]")
    elif case == "header-bad-utf8":
        out = pack(None, body, b'{"\xff\xfe": 1}')
    elif case == "dtype-missing":
        del entry["dtype"]
    elif case == "dtype-unknown":
        entry["dtype"] = "Q4_K"
    elif case == "dtype-int":
        entry["dtype"] = "I32"  # same byte size as F32: a dtype lie
    elif case == "shape-negative":
        entry["shape"] = [-1] + entry["shape"][1:]
    elif case == "shape-not-list":
        entry["shape"] = "768x768"
    elif case == "shape-huge":
        entry["shape"] = [1 << 40, 1 << 40]
    elif case == "offsets-missing":
        del entry["data_offsets"]
    elif case == "offsets-reversed":
        entry["data_offsets"] = [end, begin]
    elif case == "offsets-past-end":
        entry["data_offsets"] = [begin, len(body) + 64]
    elif case == "offsets-wrong-size":
        entry["data_offsets"] = [begin, end - 4]
    elif case == "offsets-overlap":
        other = sorted(k for k in header if k not in ("__metadata__", name))[0]
        header[other]["data_offsets"] = [begin, begin + header[other]["data_offsets"][1]
                                         - header[other]["data_offsets"][0]]
    elif case == "metadata-not-strings":
        header["__metadata__"] = {"format": 7}
    elif case == "duplicate-name":
        text = json.dumps(header)
        dup = json.dumps({name: entry})[1:-1]
        out = pack(None, body, ("{" + dup + ", " + text[1:]).encode())
    elif case in ("nan", "inf"):
        target_name = largest_f32(header)
        b0 = header[target_name]["data_offsets"][0]
        value = math.nan if case == "nan" else math.inf
        body = body[:b0] + struct.pack("<f", value) + body[b0 + 4:]
    else:
        raise SystemExit("unknown case " + case)
    open(target, "wb").write(out if out is not None else pack(header, body))


if __name__ == "__main__":
    main(*sys.argv[1:4])
