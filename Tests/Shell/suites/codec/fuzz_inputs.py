#!/usr/bin/env python3
"""Bad inputs for `sv2 decode`, all made from a fixed seed (standard library only).

  fuzz_inputs.py LIST_FILE OUT_DIR [COUNT]

LIST_FILE holds the output of `sv2 encode --list`. Writes COUNT (default 200) files OUT_DIR/NNN.in and prints
one line per input: "NNN MODE KIND", MODE being how the test hands it to sv2 decode (arg, stdin or file).
Every input is invalid by construction, so a correct decoder must refuse each one:

  random       random bytes as hex, of random length; a header's msg_length always claims more than follows
  truncated    a valid frame cut short (one frame, cut inside it)
  length       a valid frame with its msg_length, or a length/count prefix inside the payload, made larger than
               the bytes that follow (or, for msg_length, smaller: the message then runs out of payload)
  oversized    a B0_32 length prefix of 33..255
  odd          a valid frame's hex with one digit removed or added
  nonhex       a valid frame's hex with a character replaced by, or with an insertion of, something that is
               neither a hex digit, whitespace, a comma nor the x of 0x (punctuation, letters, UTF-8, control
               characters, NUL and invalid UTF-8 on stdin/file)
  short        a valid header of a known message with a payload shorter than that message's smallest encoding
  huge         headers and prefixes claiming up to 2^24-1 bytes or 65535 elements, with few bytes present
"""
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_messages import Rng, frame, message_values, minimum_size, parse_list, serialise  # noqa: E402

NON_HEX = [c for c in "ghijklmnopqrstuvwyzGHIJKLMNOPQRSTUVWYZ!\"#$%&'()*+-./:;<=>?@[\\]^_`{|}~"] + \
    ["é", "∑", "😀", "０", "\x01", "\x1b", "\x7f"]
NON_HEX_BINARY = [b"\x00", b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80"]   # NUL, invalid UTF-8


def valid_frames(messages, rng):
    """(frame bytes, [(offset in frame, width, maximum) of each length/count prefix]) for every message."""
    frames = []
    for variant in ("typical", "min"):
        for name, ext, msg_type, channel, fields in messages:
            payload, prefixes = bytearray(), []
            for _, kind, _, value in message_values(fields, variant, rng):
                serialise(kind, value, payload, prefixes)
            frames.append((frame(ext, msg_type, channel, bytes(payload)), [(o + 6, w, m) for o, w, m in prefixes],
                           fields))
    return frames


def main():
    list_file, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    messages = parse_list(open(list_file, encoding="utf-8").read())
    rng = Rng(0x5EED_2024)
    frames = valid_frames(messages, rng)
    b032 = [(f, [p for p in prefixes if p[2] == 32 and p[1] == 1]) for f, prefixes, _ in frames]
    b032 = [(f, p) for f, p in b032 if p]

    def pick(items):
        return items[rng.below(len(items))]

    def hexed(data):
        text = data.hex()
        return text.upper() if rng.below(4) == 0 else text

    def random_input():
        n = rng.below(100)
        data = bytearray(rng.below(256) for _ in range(n))
        if n >= 6:   # claim more payload than follows
            claimed = min(0xFFFFFF, n - 6 + 1 + rng.below(1000))
            data[3:6] = claimed.to_bytes(3, "little")
        return hexed(data).encode()

    def truncated():
        data = pick(frames)[0]
        return hexed(data[:1 + rng.below(len(data) - 1)]).encode()

    def length():
        data, prefixes, _ = pick(frames)
        data = bytearray(data)
        payload_length = len(data) - 6
        candidates = [(o, w, m) for o, w, m in prefixes if m >= len(data) - o - w + 1]
        if candidates and rng.below(2):
            # A length or count prefix claiming more than all the bytes after it.
            offset, width, maximum = pick(candidates)
            after = len(data) - offset - width
            value = after + 1 + rng.below(maximum - after)
            data[offset:offset + width] = value.to_bytes(width, "little")
        elif payload_length > 0 and rng.below(2):
            # msg_length smaller than the payload: the message is cut short.
            data[3:6] = rng.below(payload_length).to_bytes(3, "little")
        else:
            data[3:6] = (payload_length + 1 + rng.below(0xFFFFFF - payload_length)).to_bytes(3, "little")
        return hexed(bytes(data)).encode()

    def oversized():
        data, prefixes = pick(b032)
        data = bytearray(data)
        offset = pick(prefixes)[0]
        data[offset] = 33 + rng.below(223)
        return hexed(bytes(data)).encode()

    def odd():
        text = hexed(pick(frames)[0])
        at = rng.below(len(text) + 1)
        if rng.below(2) and at < len(text):
            return (text[:at] + text[at + 1:]).encode()
        return (text[:at] + "0123456789abcdef"[rng.below(16)] + text[at:]).encode()

    def nonhex(binary):
        text = hexed(pick(frames)[0]).encode()
        bad = pick(NON_HEX_BINARY) if binary and rng.below(2) else pick(NON_HEX).encode()
        at = rng.below(len(text))
        if rng.below(2):
            return text[:at] + bad + text[at + 1:]
        return text[:at] + bad + text[at:]

    def short():
        name, ext, msg_type, channel, fields = pick(messages)
        smallest = sum(minimum_size(kind) for _, kind in fields)
        payload = bytes(rng.below(256) for _ in range(rng.below(smallest)))
        return hexed(frame(ext, msg_type, channel, payload)).encode()

    def huge():
        choice = rng.below(3)
        if choice == 0:   # msg_length 2^24-1, a few bytes present
            return ("000001ffffff" + "00" * rng.below(20)).encode()
        if choice == 1:   # ProvideMissingTransactions.Success: SEQ0_64K count 65535, one B0_16M of 2^24-1
            payload = (1).to_bytes(4, "little") + (65535).to_bytes(2, "little") + (0xFFFFFF).to_bytes(3, "little")
            return frame("0x0", "0x56", False, payload + bytes(rng.below(8))).hex().encode()
        payload = (1).to_bytes(4, "little") + (65535).to_bytes(2, "little")   # SEQ0_64K[U16] of 65535
        return frame("0x0", "0x55", False, payload + bytes(2 * rng.below(100))).hex().encode()

    plan = [("random", 30, random_input), ("truncated", 35, truncated), ("length", 40, length),
            ("oversized", 15, oversized), ("odd", 20, odd), ("nonhex", 30, None), ("short", 20, short),
            ("huge", 10, huge)]
    assert sum(n for _, n, _ in plan) == 200
    modes = ("arg", "stdin", "file")
    os.makedirs(out_dir, exist_ok=True)
    index = 0
    while index < count:
        for kind, share, make in plan:
            for _ in range(max(1, share * count // 200)):
                if index >= count:
                    break
                mode = modes[index % 3]
                data = nonhex(mode != "arg") if kind == "nonhex" else make()
                if mode == "arg":
                    assert b"\x00" not in data
                with open(os.path.join(out_dir, "%03d.in" % index), "wb") as out:
                    out.write(data)
                print("%03d %s %s" % (index, mode, kind))
                index += 1


if __name__ == "__main__":
    main()
