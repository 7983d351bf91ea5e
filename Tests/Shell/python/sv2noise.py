"""An independent Stratum V2 Noise NX initiator and frame codec for the shell tests (not sv2's own code).

Spec 4 (Protocol Security) as the notes in PROTOCOL-NOTES.md pin it down: Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256,
ElligatorSwift keys and BIP324's x-only ECDH through libsecp256k1 (coincurve's bindings), ChaCha20-Poly1305 from the
cryptography package, HKDF over HMAC-SHA256; encrypted frames are the 6-byte header sealed alone, then the payload in
chunks of at most 65519 bytes each sealed on its own.
"""
import hashlib
import hmac
import os
import socket
import struct
import time

import coincurve
from coincurve._libsecp256k1 import ffi, lib
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

PROTOCOL_NAME = b"Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256"
_CONTEXT = lib.secp256k1_context_create(lib.SECP256K1_CONTEXT_NONE)


def _sha256(data):
    return hashlib.sha256(data).digest()


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def _hkdf2(chaining_key, ikm):
    temp = _hmac(chaining_key, ikm)
    first = _hmac(temp, b"\x01")
    return first, _hmac(temp, first + b"\x02")


def _nonce(n):
    return b"\x00" * 4 + struct.pack("<Q", n)


class CipherState:
    """A ChaCha20-Poly1305 key with its nonce counter."""

    def __init__(self, key):
        self.aead = ChaCha20Poly1305(key)
        self.n = 0

    def encrypt(self, plaintext, ad=b""):
        out = self.aead.encrypt(_nonce(self.n), plaintext, ad)
        self.n += 1
        return out

    def decrypt(self, ciphertext, ad=b""):
        out = self.aead.decrypt(_nonce(self.n), ciphertext, ad)
        self.n += 1
        return out


def _ellswift_keypair():
    secret = os.urandom(32)
    encoding = ffi.new("unsigned char[64]")
    if not lib.secp256k1_ellswift_create(_CONTEXT, encoding, secret, os.urandom(32)):
        raise ValueError("ellswift_create failed")
    return secret, bytes(encoding)


def _ecdh(secret, ell_initiator, ell_responder, party=0):
    """BIP324's x-only ECDH; party 0 when `secret` belongs to the initiator's key, 1 for the responder's."""
    out = ffi.new("unsigned char[32]")
    ok = lib.secp256k1_ellswift_xdh(
        _CONTEXT, out, ell_initiator, ell_responder, secret, party, lib.secp256k1_ellswift_xdh_hash_function_bip324, ffi.NULL)
    if not ok:
        raise ValueError("ellswift_xdh failed")
    return bytes(out)


class NoiseInitiator:
    """The client side of Noise NX over a connected socket; after handshake() it sends and receives frames."""

    def __init__(self, sock):
        self.sock = sock
        self.send_cipher = None
        self.receive_cipher = None
        self.buffer = b""

    def _read_exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def handshake(self):
        chaining_key = _sha256(PROTOCOL_NAME)
        h = _sha256(chaining_key)
        e_secret, e_ell = _ellswift_keypair()
        h = _sha256(h + e_ell)
        h = _sha256(h)  # EncryptAndHash of the empty payload without a key is MixHash(empty)
        self.sock.sendall(e_ell)
        act2 = self._read_exactly(234)
        re_ell, encrypted_static, encrypted_certificate = act2[:64], act2[64:144], act2[144:]
        h = _sha256(h + re_ell)
        chaining_key, key = _hkdf2(chaining_key, _ecdh(e_secret, e_ell, re_ell))
        cipher = CipherState(key)
        rs_ell = cipher.decrypt(encrypted_static, h)
        h = _sha256(h + encrypted_static)
        chaining_key, key = _hkdf2(chaining_key, _ecdh(e_secret, e_ell, rs_ell))
        cipher = CipherState(key)
        certificate = cipher.decrypt(encrypted_certificate, h)
        if len(certificate) != 74:
            raise ValueError("the certificate is %d bytes" % len(certificate))
        first, second = _hkdf2(chaining_key, b"")
        self.send_cipher = CipherState(first)
        self.receive_cipher = CipherState(second)
        return certificate

    def encrypt_frame(self, extension_type, message_type, payload, channel_message=False):
        extension = extension_type | (0x8000 if channel_message else 0)
        header = struct.pack("<HB", extension, message_type) + len(payload).to_bytes(3, "little")
        out = self.send_cipher.encrypt(header)
        for start in range(0, len(payload), 65519):
            out += self.send_cipher.encrypt(payload[start:start + 65519])
        return out

    def send_frame(self, extension_type, message_type, payload, channel_message=False):
        self.sock.sendall(self.encrypt_frame(extension_type, message_type, payload, channel_message))

    def receive_frame(self):
        header = self.receive_cipher.decrypt(self._read_exactly(22))
        extension_type, message_type = struct.unpack("<HB", header[:3])
        extension_type &= 0x7fff
        length = int.from_bytes(header[3:6], "little")
        payload = b""
        while len(payload) < length:
            chunk = min(65519, length - len(payload))
            payload += self.receive_cipher.decrypt(self._read_exactly(chunk + 16))
        return extension_type, message_type, payload


class NoiseResponder(NoiseInitiator):
    """The server side of Noise NX: presents `static_secret`'s key with a certificate signed by `authority_secret`
    (valid from `valid_from` for `validity` seconds); frames as the initiator's, with the cipher states swapped."""

    def __init__(self, sock, authority_secret, static_secret=None, valid_from=None, validity=3600):
        super().__init__(sock)
        self.authority_secret = authority_secret
        self.static_secret = static_secret or os.urandom(32)
        self.valid_from = int(time.time()) if valid_from is None else valid_from
        self.validity = validity

    def certificate(self):
        """SIGNATURE_NOISE_MESSAGE (spec 4.5.2): version 0, the validity window, the authority's BIP340 signature of
        SHA256(version || valid_from || not_valid_after || server static x-only key)."""
        fields = struct.pack("<HII", 0, self.valid_from, self.valid_from + self.validity)
        static_x = coincurve.PrivateKey(self.static_secret).public_key.format()[1:]
        signature = coincurve.PrivateKey(self.authority_secret).sign_schnorr(_sha256(fields + static_x), os.urandom(32))
        return fields + signature

    def handshake(self):
        chaining_key = _sha256(PROTOCOL_NAME)
        h = _sha256(chaining_key)
        re_ell = self._read_exactly(64)
        h = _sha256(h + re_ell)
        h = _sha256(h)
        e_secret, e_ell = _ellswift_keypair()
        h = _sha256(h + e_ell)
        chaining_key, key = _hkdf2(chaining_key, _ecdh(e_secret, re_ell, e_ell, party=1))
        encoding = ffi.new("unsigned char[64]")
        if not lib.secp256k1_ellswift_create(_CONTEXT, encoding, self.static_secret, os.urandom(32)):
            raise ValueError("ellswift_create failed")
        s_ell = bytes(encoding)
        encrypted_static = CipherState(key).encrypt(s_ell, h)
        h = _sha256(h + encrypted_static)
        chaining_key, key = _hkdf2(chaining_key, _ecdh(self.static_secret, re_ell, s_ell, party=1))
        encrypted_certificate = CipherState(key).encrypt(self.certificate(), h)
        self.sock.sendall(e_ell + encrypted_static + encrypted_certificate)
        first, second = _hkdf2(chaining_key, b"")
        self.receive_cipher = CipherState(first)
        self.send_cipher = CipherState(second)


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check_decode(text):
    """The payload of a base58check string (the form of SRI's authority keys)."""
    number = 0
    for character in text:
        number = number * 58 + _BASE58.index(character)
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    data = b"\x00" * (len(text) - len(text.lstrip("1"))) + data
    payload, checksum = data[:-4], data[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ValueError("bad base58check checksum")
    return payload


def str0_255(text):
    data = text.encode()
    return bytes([len(data)]) + data


def setup_connection(protocol=0, flags=0, host="127.0.0.1", port=0, vendor="sv2-shell-test"):
    """SetupConnection's payload (spec 3.6.1)."""
    return (bytes([protocol]) + struct.pack("<HHI", 2, 2, flags) + str0_255(host) + struct.pack("<H", port)
            + str0_255(vendor) + str0_255("") + str0_255("") + str0_255(""))


def open_standard_channel(request_id, user, nominal_hash_rate=1e6, max_target=b"\xff" * 32):
    """OpenStandardMiningChannel's payload (spec 5.3.2)."""
    return struct.pack("<I", request_id) + str0_255(user) + struct.pack("<f", nominal_hash_rate) + max_target


def connect(port, receive_buffer=None, timeout=10):
    """A connected socket to 127.0.0.1:port, with SO_RCVBUF set before connecting when asked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock
