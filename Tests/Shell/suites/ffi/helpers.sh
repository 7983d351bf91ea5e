# Helpers for the ffi suite: libsv2c (built by scripts/build-libsv2) and the C programs of Tests/FFI compiled
# against it with clang's AddressSanitizer and LeakSanitizer.

source "$REPO_ROOT/Tests/Shell/suites/pool/helpers.sh"

FFI_LIB_DIR="${SV2_LIB_DIR:-$REPO_ROOT/.build/release}"
FFI_INCLUDE="$REPO_ROOT/Sources/CSv2/include"
FFI_SOURCES="$REPO_ROOT/Tests/FFI"
[[ -f "$FFI_LIB_DIR/libsv2c.so" ]] || fail "no libsv2c.so in $FFI_LIB_DIR (scripts/build-libsv2 builds it)"

# The Swift toolchain's clang: it ships the sanitizer runtimes (and lld, which links them without warnings).
swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
FFI_CLANG="$swift_bin/clang"
[[ -x "$FFI_CLANG" ]] || FFI_CLANG="$(command -v clang || true)"
[[ -n "$FFI_CLANG" ]] || fail "no clang (the Swift toolchain's is used for AddressSanitizer)"
FFI_LINKER=()
[[ -x "$swift_bin/ld.lld" ]] && FFI_LINKER=(-fuse-ld=lld)

# Sanitizer reports end the program with a non-zero status; leaks are checked at exit.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=86"
export LSAN_OPTIONS="exitcode=87"

# build_asan OUTPUT SOURCE...: compiles C99 (pedantic, warnings as errors) with AddressSanitizer, linked with
# ffi_util.c and libsv2c.so.
build_asan() {
    local output="$1"
    shift
    "$FFI_CLANG" "${FFI_LINKER[@]}" -std=c99 -Wall -Wextra -Werror -pedantic -g -fno-omit-frame-pointer -fsanitize=address \
        -I"$FFI_INCLUDE" -I"$FFI_SOURCES" "$@" "$FFI_SOURCES/ffi_util.c" \
        -L"$FFI_LIB_DIR" -lsv2c -Wl,-rpath,"$FFI_LIB_DIR" -o "$output" || fail "cannot compile $*"
}

# assert_no_sanitizer_report FILE: no AddressSanitizer or LeakSanitizer report in FILE.
assert_no_sanitizer_report() {
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: AddressSanitizer' "$1"; then
        head -n 60 "$1" >&2
        fail "sanitizer report in $1"
    fi
}
