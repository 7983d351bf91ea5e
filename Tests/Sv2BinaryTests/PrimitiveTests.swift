import Sv2TestSupport
import Testing
@testable import Sv2Binary

/// Encodes through `body` into a fresh array.
private func written(_ body: (inout Sv2Writer) throws(Sv2CodecError) -> Void) throws -> [UInt8] {
    try Sv2Writer.makeArray(size: 1 << 25, body)
}

/// Decodes `hex` through `body`, returning the value and how many bytes were consumed.
private func read<T>(_ data: [UInt8], _ body: (inout Sv2Reader) throws(Sv2CodecError) -> T) throws(Sv2CodecError) -> (T, Int) {
    let result = data.withUnsafeBytes { buffer in
        Result { () throws(Sv2CodecError) in
            var reader = Sv2Reader(buffer)
            let value = try body(&reader)
            return (value, reader.offset)
        }
    }
    return try result.get()
}

@Suite("spec 3.1 data types")
struct PrimitiveTests {
    @Test("SRI binary-sv2 primitive encodings, byte for byte")
    func sriPrimitiveVectors() throws {
        let file = try loadJSON("binary_sv2_and_frames.json")
        let values = (file["computed_primitive_encodings"] as? [String: Any])?["values"] as? [String: String] ?? [:]
        #expect(values.count == 18)
        func check(_ key: String, _ encoded: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(encoded == hex(values[key] ?? "??"), "\(key)", sourceLocation: sourceLocation)
        }
        check("BOOL true", try written { w throws(Sv2CodecError) in try w.bool("b", true) })
        check("BOOL false", try written { w throws(Sv2CodecError) in try w.bool("b", false) })
        check("U16 0x1234", try written { w throws(Sv2CodecError) in try w.integer("v", UInt16(0x1234)) })
        check("U24 0x123456", try written { w throws(Sv2CodecError) in try w.u24("v", 0x123456) })
        check("U32 0x12345678", try written { w throws(Sv2CodecError) in try w.integer("v", UInt32(0x1234_5678)) })
        check("U64 0x0102030405060708", try written { w throws(Sv2CodecError) in try w.integer("v", UInt64(0x0102_0304_0506_0708)) })
        check("STR0_255 'abc'", try written { w throws(Sv2CodecError) in try w.str0_255("s", "abc") })
        check("STR0_255 ''", try written { w throws(Sv2CodecError) in try w.str0_255("s", "") })
        check("B0_32 [0xaa]", try written { w throws(Sv2CodecError) in try w.prefixedBytes("b", .b0_32, [0xaa]) })
        check("SEQ0_255[U16] [10,43,89]", try written { w throws(Sv2CodecError) in try w.integerSequence("s", .seq0_255, [UInt16(10), 43, 89]) })
        check("SEQ0_64K[U16] [10,43,89]", try written { w throws(Sv2CodecError) in try w.integerSequence("s", .seq0_64K, [UInt16(10), 43, 89]) })
        check("SEQ0_64K[U32] [546,99999,87,32]", try written { w throws(Sv2CodecError) in try w.integerSequence("s", .seq0_64K, [UInt32(546), 99999, 87, 32]) })
        check("SEQ0_255[BOOL] [true,false,true]", try written { w throws(Sv2CodecError) in
            try w.sequenceCount("s", .seq0_255, 3)
            for flag in [true, false, true] { try w.bool("s", flag) }
        })
        check("OPTION[U32] None (Sv2Option)", try written { w throws(Sv2CodecError) in try w.optionalU32("o", nil) })
        check("OPTION[U32] Some(0x0c0b0a09)", try written { w throws(Sv2CodecError) in try w.optionalU32("o", 0x0c0b_0a09) })
        check("F32 0.345 (IEEE754 LE)", try written { w throws(Sv2CodecError) in try w.f32("f", 0.345) })

        #expect(try read([0x03]) { r throws(Sv2CodecError) in try r.bool("b") }.0 == true)
        #expect(try read([0x02]) { r throws(Sv2CodecError) in try r.bool("b") }.0 == false)
        #expect(try read(hex("563412")) { r throws(Sv2CodecError) in try r.u24("v") }.0 == 0x123456)
        #expect(try read(hex("d7a3b03e")) { r throws(Sv2CodecError) in try r.f32("f") }.0 == 0.345)
        #expect(try read(hex("01090a0b0c")) { r throws(Sv2CodecError) in try r.optionalU32("o") }.0 == 0x0c0b_0a09)
        #expect(try read(hex("0400220200009f8601005700000020000000")) { r throws(Sv2CodecError) in
            try r.integerSequence("s", .seq0_64K, of: UInt32.self)
        }.0 == [546, 99999, 87, 32])
    }

    @Test("SRI B0_64K and B0_16M literals")
    func byteArrayLiterals() throws {
        #expect(try written { w throws(Sv2CodecError) in try w.prefixedBytes("b", .b0_64K, [1, 2, 9]) } == hex("0300010209"))
        #expect(try written { w throws(Sv2CodecError) in try w.prefixedBytes("b", .b0_16M, [1, 2, 9]) } == hex("030000010209"))
        let big = try written { w throws(Sv2CodecError) in try w.prefixedBytes("b", .b0_64K, [UInt8](repeating: 0x0a, count: 754)) }
        #expect(big.count == 756 && big.prefix(2) == [0xf2, 0x02])
        #expect(throws: Sv2CodecError.self) {
            try written { w throws(Sv2CodecError) in try w.prefixedBytes("b", .b0_64K, [UInt8](repeating: 0, count: 70000)) }
        }
        // struct { a: u32 = 456, b: u8 = 9 }
        #expect(try written { w throws(Sv2CodecError) in
            try w.integer("a", UInt32(456))
            try w.integer("b", UInt8(9))
        } == hex("c801000009"))
    }

    @Test("every prefixed type: lengths 0 and max accepted, max+1 rejected both ways", arguments: Sv2BytesType.allCases)
    func byteArrayBounds(type: Sv2BytesType) throws {
        for length in [0, type.maximumLength] {
            let value = [UInt8](repeating: 0x5a, count: length)
            let encoded = try written { w throws(Sv2CodecError) in try w.prefixedBytes("field", type, value) }
            #expect(encoded.count == type.prefixSize + length)
            let (decoded, consumed) = try read(encoded) { r throws(Sv2CodecError) in try r.prefixedBytes("field", type) }
            #expect(decoded == value && consumed == encoded.count)
        }
        let over = [UInt8](repeating: 0, count: type.maximumLength + 1)
        #expect(throws: Sv2CodecError(field: "field", offset: 0, problem: .lengthExceeds(type: type.description, length: over.count, maximum: type.maximumLength))) {
            try written { w throws(Sv2CodecError) in try w.prefixedBytes("field", type, over) }
        }
        if type.prefixSize == 1 && type.maximumLength < 255 {
            // A length prefix over the bound is a decode error at the prefix, not a truncation.
            let wire = [UInt8(type.maximumLength + 1)] + over
            #expect(throws: Sv2CodecError(field: "field", offset: 0, problem: .lengthExceeds(type: "B0_32", length: 33, maximum: 32))) {
                try read(wire) { r throws(Sv2CodecError) in try r.prefixedBytes("field", type) }
            }
        }
    }

    @Test("sequences: counts 0 and max accepted, max+1 rejected", arguments: Sv2SeqType.allCases)
    func sequenceBounds(type: Sv2SeqType) throws {
        for count in [0, type.maximumCount] {
            let values = (0..<count).map { UInt16(truncatingIfNeeded: $0) }
            let encoded = try written { w throws(Sv2CodecError) in try w.integerSequence("seq", type, values) }
            #expect(try read(encoded) { r throws(Sv2CodecError) in try r.integerSequence("seq", type, of: UInt16.self) }.0 == values)
        }
        #expect(throws: Sv2CodecError.self) {
            try written { w throws(Sv2CodecError) in try w.integerSequence("seq", type, [UInt16](repeating: 1, count: type.maximumCount + 1)) }
        }
    }

    @Test("STR0_255 keeps bytes that are not UTF-8; 256 bytes rejected")
    func strings() throws {
        let raw = Sv2String(bytes: [0xff, 0xfe, 0x41])
        let encoded = try written { w throws(Sv2CodecError) in try w.str0_255("s", raw) }
        #expect(try read(encoded) { r throws(Sv2CodecError) in try r.str0_255("s") }.0 == raw)
        #expect(raw.string == nil && Sv2String("ok").string == "ok")
        #expect(throws: Sv2CodecError.self) {
            try written { w throws(Sv2CodecError) in try w.str0_255("s", Sv2String(bytes: [UInt8](repeating: 0x41, count: 256))) }
        }
    }

    @Test("errors name the field, the offset and the problem")
    func errorsAreSpecific() throws {
        let wire: [UInt8] = [1, 0, 0, 0, 40] + [UInt8](repeating: 0, count: 40)
        let error = #expect(throws: Sv2CodecError.self) {
            try read(wire) { r throws(Sv2CodecError) in
                _ = try r.integer("channel_id", as: UInt32.self)
                return try r.prefixedBytes("extranonce", .b0_32)
            }
        }
        #expect(error?.description == "byte 4: extranonce: B0_32 length 40 exceeds 32")
        let truncated = #expect(throws: Sv2CodecError.self) {
            try read([1, 2]) { r throws(Sv2CodecError) in try r.integer("job_id", as: UInt32.self) }
        }
        #expect(truncated?.description == "byte 0: job_id: truncated: needs 4 bytes, 2 left")
        #expect(throws: Sv2CodecError(field: "min_ntime", offset: 0, problem: .invalidOptionCount(2))) {
            try read([2, 0, 0, 0, 0]) { r throws(Sv2CodecError) in try r.optionalU32("min_ntime") }
        }
        // A huge sequence count is refused before reserving memory for it.
        #expect(throws: Sv2CodecError(field: "merkle_path", offset: 2, problem: .truncated(needed: 32 * 65535, available: 0))) {
            try read([0xff, 0xff]) { r throws(Sv2CodecError) in try r.u256Sequence("merkle_path", .seq0_64K) }
        }
        #expect(throws: Sv2CodecError.self) { try written { w throws(Sv2CodecError) in try w.u24("v", 0x100_0000) } }
    }

    @Test("U256 keeps wire order and compares numerically")
    func u256() throws {
        let one = U256(1)
        #expect(one.littleEndianBytes == [1] + [UInt8](repeating: 0, count: 31))
        #expect(U256(hex: one.hex) == one)
        #expect(U256(hex: "00") == nil)
        #expect(one < U256(w0: 0, w1: 0, w2: 0, w3: 1) && U256.max > one)
    }

    @Test("hex helper")
    func hexHelper() {
        #expect(Hex.decode("0xDEadBE") == [0xde, 0xad, 0xbe])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.encode([0, 255]) == "00ff")
    }
}
