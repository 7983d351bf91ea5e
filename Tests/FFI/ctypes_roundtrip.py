"""Checks libsv2c from Python (ctypes) against the Swift codec behind `sv2 encode`.

For every message `sv2 encode --list` names (every Template Distribution message among them): the library's field
list must equal the list's (names and spec types, in order); a frame `sv2 encode` builds from random field values must
decode through the library to exactly those values; and the same message built through the library's setters must
encode to the same bytes. Then a few frames the library must refuse.

Usage: ctypes_roundtrip.py LIBSV2C SV2_BINARY [SEED]
Prints one line per message and a summary; exit status 0 when everything matched.
"""
import ctypes
import random
import re
import subprocess
import sys

TEMPLATE_DISTRIBUTION = [
    "CoinbaseOutputConstraints", "NewTemplate", "TemplateDistribution.SetNewPrevHash", "RequestTransactionData",
    "RequestTransactionData.Success", "RequestTransactionData.Error", "SubmitSolution",
]

lib = ctypes.CDLL(sys.argv[1])
sv2 = sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)

P = ctypes.c_void_p
lib.sv2_error_message.restype = ctypes.c_char_p
lib.sv2_last_error_detail.restype = ctypes.c_char_p
lib.sv2_message_name.restype = ctypes.c_char_p
lib.sv2_message_name.argtypes = [P]
lib.sv2_message_field_name.restype = ctypes.c_char_p
lib.sv2_message_field_name.argtypes = [P, ctypes.c_size_t]
lib.sv2_message_field_type_name.restype = ctypes.c_char_p
lib.sv2_message_field_type_name.argtypes = [P, ctypes.c_size_t]
lib.sv2_message_field_count.restype = ctypes.c_size_t
lib.sv2_message_field_count.argtypes = [P]
lib.sv2_message_free.argtypes = [P]
lib.sv2_message_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(P)]
lib.sv2_frame_decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(P), ctypes.POINTER(ctypes.c_size_t)]
lib.sv2_message_encode.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
lib.sv2_message_get_uint.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]
lib.sv2_message_set_uint.argtypes = [P, ctypes.c_char_p, ctypes.c_uint64]
lib.sv2_message_get_f32.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_float)]
lib.sv2_message_set_f32.argtypes = [P, ctypes.c_char_p, ctypes.c_float]
lib.sv2_message_get_u256.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
lib.sv2_message_set_u256.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
lib.sv2_message_get_bytes.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
lib.sv2_message_set_bytes.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
lib.sv2_message_get_option_u32.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_uint32)]
lib.sv2_message_set_option_u32.argtypes = [P, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]
lib.sv2_message_get_count.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
lib.sv2_message_get_uint_at.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint64)]
lib.sv2_message_get_u256_at.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
lib.sv2_message_get_bytes_at.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
lib.sv2_message_append_uint.argtypes = [P, ctypes.c_char_p, ctypes.c_uint64]
lib.sv2_message_append_u256.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
lib.sv2_message_append_bytes.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]

failures = []


def ok(code, what):
    if code != 0:
        raise RuntimeError(f"{what}: {lib.sv2_error_message(code).decode()} ({lib.sv2_last_error_detail().decode()})")


def random_value(type_name):
    """A random value for a spec type, as Python data."""
    if type_name == "BOOL":
        return rng.random() < 0.5
    if type_name in ("U8", "U16", "U32", "U64"):
        return rng.getrandbits(int(type_name[1:]))
    if type_name == "F32":
        return rng.randrange(0, 1 << 20) / 4.0
    if type_name == "U256":
        return rng.randbytes(32)
    if type_name == "STR0_255":
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-.") for _ in range(rng.randrange(0, 40)))
    if type_name.startswith("B0_"):
        return rng.randbytes(rng.randrange(0, 33 if type_name == "B0_32" else 90))
    if type_name == "OPTION[U32]":
        return None if rng.random() < 0.3 else rng.getrandbits(32)
    match = re.fullmatch(r"SEQ0_(255|64K)\[(.+)\]", type_name)
    if match:
        return [random_value(match.group(2)) for _ in range(rng.randrange(0, 4))]
    raise ValueError(f"no generator for {type_name}")


def as_text(type_name, value):
    """The value as `sv2 encode` takes it."""
    if type_name == "BOOL":
        return "true" if value else "false"
    if type_name == "OPTION[U32]":
        return "none" if value is None else str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        element = type_name[type_name.index("[") + 1:-1]
        return ",".join(as_text(element, item) for item in value)
    return str(value)


def read_field(message, name, type_name):
    """The field's value read through the library."""
    key = name.encode()
    if type_name in ("BOOL", "U8", "U16", "U32", "U64"):
        number = ctypes.c_uint64()
        ok(lib.sv2_message_get_uint(message, key, ctypes.byref(number)), name)
        return bool(number.value) if type_name == "BOOL" else number.value
    if type_name == "F32":
        real = ctypes.c_float()
        ok(lib.sv2_message_get_f32(message, key, ctypes.byref(real)), name)
        return real.value
    if type_name == "U256":
        out = ctypes.create_string_buffer(32)
        ok(lib.sv2_message_get_u256(message, key, out), name)
        return out.raw
    if type_name == "STR0_255" or type_name.startswith("B0_"):
        data, length = ctypes.c_void_p(), ctypes.c_size_t()
        ok(lib.sv2_message_get_bytes(message, key, ctypes.byref(data), ctypes.byref(length)), name)
        raw = ctypes.string_at(data, length.value) if length.value else b""
        return raw.decode() if type_name == "STR0_255" else raw
    if type_name == "OPTION[U32]":
        present, value = ctypes.c_int(), ctypes.c_uint32()
        ok(lib.sv2_message_get_option_u32(message, key, ctypes.byref(present), ctypes.byref(value)), name)
        return value.value if present.value else None
    count = ctypes.c_size_t()
    ok(lib.sv2_message_get_count(message, key, ctypes.byref(count)), name)
    element = type_name[type_name.index("[") + 1:-1]
    items = []
    for index in range(count.value):
        if element == "U256":
            out = ctypes.create_string_buffer(32)
            ok(lib.sv2_message_get_u256_at(message, key, index, out), name)
            items.append(out.raw)
        elif element.startswith("B0_"):
            data, length = ctypes.c_void_p(), ctypes.c_size_t()
            ok(lib.sv2_message_get_bytes_at(message, key, index, ctypes.byref(data), ctypes.byref(length)), name)
            items.append(ctypes.string_at(data, length.value) if length.value else b"")
        else:
            number = ctypes.c_uint64()
            ok(lib.sv2_message_get_uint_at(message, key, index, ctypes.byref(number)), name)
            items.append(number.value)
    return items


def write_field(message, name, type_name, value):
    """Sets the field through the library."""
    key = name.encode()
    if type_name in ("BOOL", "U8", "U16", "U32", "U64"):
        ok(lib.sv2_message_set_uint(message, key, int(value)), name)
    elif type_name == "F32":
        ok(lib.sv2_message_set_f32(message, key, value), name)
    elif type_name == "U256":
        ok(lib.sv2_message_set_u256(message, key, value), name)
    elif type_name == "STR0_255" or type_name.startswith("B0_"):
        raw = value.encode() if isinstance(value, str) else value
        ok(lib.sv2_message_set_bytes(message, key, raw, len(raw)), name)
    elif type_name == "OPTION[U32]":
        ok(lib.sv2_message_set_option_u32(message, key, 0 if value is None else 1, value or 0), name)
    else:
        element = type_name[type_name.index("[") + 1:-1]
        for item in value:
            if element == "U256":
                ok(lib.sv2_message_append_u256(message, key, item), name)
            elif element.startswith("B0_"):
                ok(lib.sv2_message_append_bytes(message, key, item, len(item)), name)
            else:
                ok(lib.sv2_message_append_uint(message, key, item), name)


def encode(message):
    size = ctypes.c_size_t()
    lib.sv2_message_encode(message, None, 0, ctypes.byref(size))
    out = ctypes.create_string_buffer(size.value)
    ok(lib.sv2_message_encode(message, out, size.value, ctypes.byref(size)), "encode")
    return out.raw[:size.value]


def decode(frame):
    message, size = P(), ctypes.c_size_t()
    code = lib.sv2_frame_decode(frame, len(frame), ctypes.byref(message), ctypes.byref(size))
    return code, message, size.value


def check_message(name, listed_fields):
    message = P()
    ok(lib.sv2_message_new(name.encode(), ctypes.byref(message)), name)
    try:
        count = lib.sv2_message_field_count(message)
        fields = [(lib.sv2_message_field_name(message, i).decode(), lib.sv2_message_field_type_name(message, i).decode())
                  for i in range(count)]
        if fields != listed_fields:
            failures.append(f"{name}: library fields {fields} != sv2 encode --list {listed_fields}")
            return
        values = {field: random_value(type_name) for field, type_name in fields}
        words = [f"{field}={as_text(type_name, values[field])}" for field, type_name in fields]
        swift_frame = bytes.fromhex(subprocess.run([sv2, "encode", name] + words, check=True, capture_output=True, text=True).stdout.strip())
        code, decoded, size = decode(swift_frame)
        ok(code, f"decode {name}")
        try:
            if lib.sv2_message_name(decoded).decode() != name or size != len(swift_frame):
                failures.append(f"{name}: decoded as {lib.sv2_message_name(decoded).decode()} over {size} bytes")
            for field, type_name in fields:
                got = read_field(decoded, field, type_name)
                if got != values[field]:
                    failures.append(f"{name}.{field}: sent {values[field]!r}, the library read {got!r}")
        finally:
            lib.sv2_message_free(decoded)
        for field, type_name in fields:
            write_field(message, field, type_name, values[field])
        built = encode(message)
        if built != swift_frame:
            failures.append(f"{name}: library encoding {built.hex()} != sv2 encode {swift_frame.hex()}")
        print(f"{name}: {len(fields)} fields, {len(swift_frame)} bytes, decode and encode match")
    finally:
        lib.sv2_message_free(message)


def check_refusals():
    """Frames the library must refuse, with the code it must give."""
    cases = [
        (bytes.fromhex("000071"), 3, "a partial header is incomplete"),
        (bytes.fromhex("0000710a0000") + b"\x01" * 4, 3, "a partial payload is incomplete"),
        (bytes.fromhex("4242000000"), 3, "five bytes are not a header"),
        (bytes.fromhex("424200000000"), 5, "extension 0x4242 is unknown"),
        (bytes.fromhex("0000730400000102"), 3, "RequestTransactionData with 2 of 8 bytes"),
        (bytes.fromhex("000073040000") + b"\x01" * 4, 4, "RequestTransactionData with 4 of 8 bytes in a complete frame"),
    ]
    for frame, expected, what in cases:
        code, message, _ = decode(frame)
        lib.sv2_message_free(message)
        if code != expected:
            failures.append(f"{what}: code {code}, expected {expected}")


listing = subprocess.run([sv2, "encode", "--list"], check=True, capture_output=True, text=True).stdout.splitlines()
checked = []
for line in listing:
    match = re.match(r"(\S+) \(ext [^)]*\):?(.*)", line)
    if not match:
        continue
    fields = [tuple(word.split(":", 1)) for word in match.group(2).split()]
    check_message(match.group(1), fields)
    checked.append(match.group(1))
missing = [name for name in TEMPLATE_DISTRIBUTION if name not in checked]
if missing:
    failures.append(f"Template Distribution messages not checked: {missing}")
check_refusals()
for failure in failures:
    print("FAIL", failure)
print(f"{len(checked)} messages checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
