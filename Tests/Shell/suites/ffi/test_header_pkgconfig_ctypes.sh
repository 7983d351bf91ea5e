# sv2.h is plain C99 declaring only sv2_/SV2_ names; the pkg-config files build a program against the shared and the
# static library; the ABI version agrees; and from Python (ctypes) every message, the Template Distribution ones among
# them, decodes and encodes exactly as the Swift codec behind `sv2 encode` does.
source "$SUITE_DIR/helpers.sh"

cat > abi.c <<'C'
#include <stdio.h>
#include "sv2.h"
int main(void) {
    printf("%u %u %s\n", (unsigned)sv2_abi_version(), (unsigned)SV2_ABI_VERSION, sv2_error_message(SV2_ERR_MALFORMED));
    return sv2_abi_version() == SV2_ABI_VERSION ? 0 : 1;
}
C
# Both compilers, strict C99.
for compiler in cc "$FFI_CLANG"; do
    assert_exit 0 "$compiler" -std=c99 -Wall -Wextra -Werror -pedantic -I"$FFI_INCLUDE" -c abi.c -o abi.o
done
# C++ sees the declarations with C linkage.
if command -v c++ > /dev/null; then
    cp abi.c abi.cpp
    assert_exit 0 c++ -Wall -Wextra -Werror -pedantic -I"$FFI_INCLUDE" -c abi.cpp -o abi_cpp.o
fi

# Every name the header declares at file scope starts with sv2_ or SV2_.
assert_exit 0 python3 - "$FFI_INCLUDE/sv2.h" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
names = set(re.findall(r"^\s*#\s*define\s+(\w+)", text, flags=re.M))
body = re.sub(r"^\s*#.*$", " ", text, flags=re.M).replace('extern "C" {', " ")
depth, statement, statements = 0, "", []
for char in body:
    depth += char == "{"
    depth -= char == "}"
    statement += char
    if char == ";" and depth == 0:
        statements.append(statement)
        statement = ""
for statement in statements:
    statement = statement.strip()
    names.update(re.findall(r"\b(?:struct|enum)\s+(\w+)", statement))
    if statement.startswith("typedef"):
        names.add(re.findall(r"(\w+)\s*;$", statement)[0])
        for block in re.findall(r"enum\s+\w*\s*\{(.*?)\}", statement, flags=re.S):
            names.update(member.split("=")[0].strip() for member in block.split(",") if member.strip())
    else:
        names.add(re.search(r"(\w+)\s*\(", statement).group(1))
bad = sorted(name for name in names if not re.match(r"(sv2_|SV2_)", name))
print(f"{len(names)} names declared; not sv2_/SV2_: {bad}")
sys.exit(1 if bad or len(names) < 60 else 0)
PY
echo "$OUT"

# pkg-config: the shared library and the static archive.
export PKG_CONFIG_PATH="$FFI_LIB_DIR/pkgconfig"
for package in sv2c sv2c-static; do
    assert_exit 0 pkg-config --exists "$package"
    # shellcheck disable=SC2046
    assert_exit 0 cc -std=c99 -Wall -Wextra -Werror -pedantic abi.c $(pkg-config --cflags --libs "$package") -o "abi-$package"
    assert_exit 0 "./abi-$package"
    assert_eq "1 1 malformed message" "$OUT" "ABI version line of $package"
done
ldd abi-sv2c | grep -q 'libsv2c\.so' || fail "abi-sv2c is not linked with libsv2c.so"
if ldd abi-sv2c-static | grep -q 'libsv2c'; then fail "abi-sv2c-static loads libsv2c"; fi

# Python ctypes against the Swift codec.
ASSERT_TIMEOUT=100 assert_exit 0 python3 "$FFI_SOURCES/ctypes_roundtrip.py" "$FFI_LIB_DIR/libsv2c.so" "$SV2" 11
echo "$OUT" | tail -n 3
assert_contains "$OUT" "TemplateDistribution.SetNewPrevHash: 5 fields"
assert_contains "$OUT" "RequestTransactionData.Success: 3 fields"
