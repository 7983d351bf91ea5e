#!/usr/bin/env python3
"""Test cases for every message of `sv2 encode --list` (standard library only, deterministic).

  gen_messages.py cases < list.txt
      Reads `sv2 encode --list` and prints three cases per message (smallest values, largest values, typical
      values), one per line, tab separated:
          case id, message name, expected header text, space-separated field names,
          expected `sv2 decode --json` object, the `sv2 encode` arguments (shell-quoted),
          the expected frame in hex (serialised here, independently of sv2, by the rules of spec 3.1)

  gen_messages.py check cases.tsv decoded.jsonl
      Compares each line of decoded.jsonl (the `sv2 decode --json` output for each case, in order) with the
      expected object: same keys in the same order, same values (F32 compared as 32-bit floats).
"""
import json
import re
import shlex
import struct
import sys


class Rng:
    """splitmix64: the same numbers on every Python version."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def hex(self, count):
        return "".join("%02x" % self.below(256) for _ in range(count))


BYTES_MAX = {"B0_32": 32, "B0_255": 255, "B0_64K": 65535, "B0_16M": 16777215}
# Largest sizes used on the command line (a single argument is limited to 128 KiB by Linux).
BYTES_BIG = {"B0_32": 32, "B0_255": 255, "B0_64K": 4000, "B0_16M": 3000}
SEQ_BIG = {"SEQ0_255": 255, "SEQ0_64K": 1000}
TYPICAL_STRINGS = ["pool.example.com", "héllo wörld ✓", "a=b, c", "0x00", "with \"quotes\" and \\", "none"]


def value_for(kind, variant, rng):
    """(command-line text, expected JSON value) for a field of type `kind`."""
    m = re.fullmatch(r"U(\d+)", kind)
    if m:
        bits = int(m.group(1))
        if bits == 256:
            digits = {"min": "00" * 32, "max": "ff" * 32}.get(variant) or rng.hex(32)
            return digits, digits
        number = {"min": 0, "max": (1 << bits) - 1}.get(variant)
        if number is None:
            number = rng.below(1 << bits)
            if rng.below(2):
                return hex(number), number      # 0x hex is accepted too
        return str(number), number
    if kind == "BOOL":
        flag = {"min": False, "max": True}.get(variant, rng.below(2) == 1)
        return ("true" if flag else "false"), flag
    if kind == "F32":
        text = {"min": "0", "max": "3.4028235e38"}.get(variant) or ["0.345", "-1.5", "1234.5", "1e-10", "65536"][rng.below(5)]
        return text, float(text)
    if kind == "OPTION[U32]":
        if variant == "min":
            return "none", None
        number = 4294967295 if variant == "max" else rng.below(1 << 32)
        return str(number), number
    if kind == "STR0_255":
        if variant == "min":
            return "", ""
        if variant == "max":
            text = "é" * 127 + "a"                # 255 bytes of UTF-8
            assert len(text.encode()) == 255
            return text, text
        text = TYPICAL_STRINGS[rng.below(len(TYPICAL_STRINGS))]
        return text, text
    if kind in BYTES_MAX:
        count = {"min": 0, "max": BYTES_BIG[kind]}.get(variant)
        if count is None:
            count = 1 + rng.below(min(40, BYTES_MAX[kind]))
        data = rng.hex(count)
        return data, data
    m = re.fullmatch(r"(SEQ0_255|SEQ0_64K)\[(.+)\]", kind)
    if m:
        seq, element = m.groups()
        if variant == "min":
            return "", []
        count = SEQ_BIG[seq] if variant == "max" else 1 + rng.below(4)
        if variant == "max" and element in BYTES_MAX:
            count = 20
        items = []
        for index in range(count):
            if element in BYTES_MAX:
                size = 0 if (variant != "max" and index == 1) else 1 + rng.below(100)  # an empty element too
                data = rng.hex(size)
                items.append((data, data))
            else:
                items.append(value_for(element, "max" if (variant == "max" and index == 0) else "typical", rng))
        return ",".join(t for t, _ in items), [v for _, v in items]
    raise SystemExit(f"gen_messages.py: no generator for field type {kind}")


LENGTH_PREFIX = {"STR0_255": 1, "B0_32": 1, "B0_255": 1, "B0_64K": 2, "B0_16M": 3}
TYPE_MAX = {"STR0_255": 255, **BYTES_MAX, "SEQ0_255": 255, "SEQ0_64K": 65535}


def serialise(kind, value, out, prefixes):
    """Appends the wire form of `value` (as in the expected JSON) to the bytearray `out`. Records each length
    or count prefix as (offset, width, maximum) in `prefixes`."""
    m = re.fullmatch(r"U(\d+)", kind)
    if m:
        bits = int(m.group(1))
        if bits == 256:
            out += bytes.fromhex(value)
        else:
            out += value.to_bytes(bits // 8, "little")
    elif kind == "BOOL":
        out.append(1 if value else 0)
    elif kind == "F32":
        out += struct.pack("<f", value)
    elif kind == "OPTION[U32]":
        out += b"\x00" if value is None else b"\x01" + value.to_bytes(4, "little")
    elif kind in LENGTH_PREFIX:
        data = value.encode() if kind == "STR0_255" else bytes.fromhex(value)
        width = LENGTH_PREFIX[kind]
        prefixes.append((len(out), width, TYPE_MAX[kind]))
        out += len(data).to_bytes(width, "little") + data
    else:
        m = re.fullmatch(r"(SEQ0_255|SEQ0_64K)\[(.+)\]", kind)
        if not m:
            raise SystemExit(f"gen_messages.py: cannot serialise field type {kind}")
        seq, element = m.groups()
        width = 1 if seq == "SEQ0_255" else 2
        prefixes.append((len(out), width, TYPE_MAX[seq]))
        out += len(value).to_bytes(width, "little")
        for item in value:
            serialise(element, item, out, prefixes)


def frame(ext, msg_type, channel, payload):
    """The frame bytes: extension_type U16 (bit 15 = channel_msg), msg_type U8, msg_length U24, payload."""
    extension = int(ext, 16) | (0x8000 if channel else 0)
    return extension.to_bytes(2, "little") + bytes([int(msg_type, 16)]) + len(payload).to_bytes(3, "little") + payload


def minimum_size(kind):
    """The fewest bytes a value of this type takes."""
    m = re.fullmatch(r"U(\d+)", kind)
    if m:
        return int(m.group(1)) // 8
    if kind in ("BOOL", "OPTION[U32]"):
        return 1
    if kind == "F32":
        return 4
    if kind in LENGTH_PREFIX:
        return LENGTH_PREFIX[kind]
    return 1 if kind.startswith("SEQ0_255") else 2


def message_values(fields, variant, rng):
    """[(field, type, command-line text, JSON value)] for one message."""
    return [(field, kind, *value_for(kind, variant, rng)) for field, kind in fields]


def parse_list(text):
    messages = []
    for line in text.splitlines():
        m = re.fullmatch(r"(\S+) \(ext (0x[0-9a-f]+) type (0x[0-9a-f]+)(, channel_msg)?\): ?(.*)", line)
        if not m:
            raise SystemExit(f"gen_messages.py: cannot read list line: {line!r}")
        name, ext, msg_type, channel, fields = m.groups()
        fields = [tuple(f.split(":", 1)) for f in fields.split()]
        messages.append((name, ext, msg_type, bool(channel), fields))
    return messages


def cases():
    messages = parse_list(sys.stdin.read())
    if not messages:
        raise SystemExit("gen_messages.py: empty message list")
    rng = Rng(20240611)
    for name, ext, msg_type, channel, fields in messages:
        header = f"{name}  (extension_type {ext}, msg_type {msg_type}{', channel_msg' if channel else ''}, "
        for variant in ("min", "max", "typical"):
            args = [name]
            expected = {"message": name}
            payload = bytearray()
            for field, kind, text, value in message_values(fields, variant, rng):
                args.append(f"{field}={text}")
                expected[field] = value
                serialise(kind, value, payload, [])
            row = [f"{name}/{variant}", name, header, " ".join(f for f, _ in fields),
                   json.dumps(expected, ensure_ascii=False), " ".join(shlex.quote(a) for a in args),
                   frame(ext, msg_type, channel, bytes(payload)).hex()]
            assert all("\t" not in part and "\n" not in part for part in row)
            print("\t".join(row))


def f32(value):
    return struct.pack("<f", value)


def same(expected, actual):
    if isinstance(expected, float):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and f32(expected) == f32(actual)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(same, expected, actual))
    return type(expected) is type(actual) and expected == actual


def check(cases_path, decoded_path):
    rows = [line.rstrip("\n").split("\t") for line in open(cases_path, encoding="utf-8")]
    decoded = open(decoded_path, encoding="utf-8").read().splitlines()
    problems = []
    if len(rows) != len(decoded):
        problems.append(f"{len(rows)} cases but {len(decoded)} decoded objects")
    for row, line in zip(rows, decoded):
        case, expected = row[0], json.loads(row[4])
        try:
            actual = json.loads(line)
        except ValueError as error:
            problems.append(f"{case}: not JSON ({error}): {line[:200]}")
            continue
        if list(actual) != list(expected):
            problems.append(f"{case}: keys {list(actual)}, expected {list(expected)}")
            continue
        for key in expected:
            if not same(expected[key], actual[key]):
                problems.append(f"{case}: {key} decoded as {json.dumps(actual[key], ensure_ascii=False)[:200]}, "
                                f"expected {json.dumps(expected[key], ensure_ascii=False)[:200]}")
    for problem in problems:
        print(problem)
    print(f"checked {len(decoded)} decoded messages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["cases"]:
        cases()
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 4:
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
