/*
 * ffi_util.h -- the plumbing the C programs of Tests/FFI share: blocking loopback sockets, sending and receiving
 * Sv2 messages over a libsv2c Noise handle, and printing a message field by field through the accessor API.
 */
#ifndef FFI_UTIL_H
#define FFI_UTIL_H

#include <stdio.h>
#include "sv2.h"

/* Prints "what: <error sentence> (<detail>)" on stderr when error is not SV2_OK; returns 1 for SV2_OK, else 0. */
int ffi_ok(sv2_error error, const char *what);

/* A TCP connection to host:port (numeric IPv4), or -1. */
int ffi_connect(const char *host, int port);
/* A socket listening on 127.0.0.1 on a free port (written to *port), or -1. */
int ffi_listen(int *port);
/* Reads exactly n bytes; 1 on success, 0 on EOF or error. */
int ffi_read_exact(int fd, uint8_t *buffer, size_t n);
/* Writes all n bytes; 1 on success. */
int ffi_write_all(int fd, const uint8_t *buffer, size_t n);

/* Encodes, encrypts and sends one message; 1 on success. */
int ffi_send(int fd, sv2_noise *noise, const sv2_message *message);
/* Receives, decrypts and decodes the next message the library knows (frames of unknown types are skipped, as spec
 * 3 asks); NULL on EOF or error. Free the result with sv2_message_free. */
sv2_message *ffi_receive(int fd, sv2_noise *noise);

/* Prints "Name" then one "  field = value" line per field (integers in decimal, bytes and U256 in hex). */
void ffi_print_message(FILE *out, const sv2_message *message);
/* Prints n bytes as lower-case hex. */
void ffi_print_hex(FILE *out, const uint8_t *bytes, size_t n);

#endif
