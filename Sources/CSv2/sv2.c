/*
 * sv2.c -- the parts of libsv2c written in C: the ABI version and the error code sentences. Everything else is
 * implemented in Swift (Sources/Sv2C) behind the declarations of include/sv2.h.
 */
#include "sv2.h"

uint32_t sv2_abi_version(void) {
    return SV2_ABI_VERSION;
}

const char *sv2_error_message(sv2_error error) {
    switch (error) {
    case SV2_OK: return "success";
    case SV2_ERR_INVALID_ARGUMENT: return "invalid argument (a required pointer is NULL or a value is out of its domain)";
    case SV2_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case SV2_ERR_INCOMPLETE: return "incomplete: more bytes are needed";
    case SV2_ERR_MALFORMED: return "malformed message";
    case SV2_ERR_UNKNOWN_MESSAGE: return "unknown message type";
    case SV2_ERR_OVERSIZED: return "frame payload over the maximum size";
    case SV2_ERR_NO_SUCH_FIELD: return "no field of that name and type";
    case SV2_ERR_OUT_OF_RANGE: return "value out of the field's range";
    case SV2_ERR_HANDSHAKE: return "Noise handshake failed";
    case SV2_ERR_CERTIFICATE: return "certificate refused";
    case SV2_ERR_DECRYPT: return "encrypted frame failed to authenticate";
    case SV2_ERR_KEY: return "invalid key";
    case SV2_ERR_STATE: return "call out of order";
    case SV2_ERR_NO_MEMORY: return "out of memory";
    }
    return "unknown error code";
}
