import ArgumentParser
import Sv2Binary
import Sv2Crypto
import Sv2Noise

/// `sv2 bench noise`: Noise NX handshakes and encrypted frame round trips, each next to the cost of the raw
/// primitives they are made of, measured in the same run.
struct NoiseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "µs per Noise handshake and ns per encrypted frame round trip, next to their raw primitives.",
        discussion: """
            Handshake: one full NX handshake on one core, both sides in process, as a server and a client make it: \
            two fresh ephemeral keys (NoiseKeyPair.generate with SystemRandom), a certificate signed for the \
            connection (SignatureNoiseMessage.sign), act 1, act 2 and the client's check of the certificate against \
            the authority key. Reference: the sum of the primitive operations one handshake performs, each timed \
            alone in the same run and counted from the code (the table lists them): key generations, \
            ElligatorSwift encodings and decodes, x-only ECDHs, one BIP340 signature and one verification, and \
            the SHA-256, HKDF and ChaCha20-Poly1305 calls.

            Frames: NoiseFrameEncoder.encrypt then NoiseFrameDecoder feed + next, for 64 B, 1 KiB and 64 KiB \
            payloads; reference: one in-place ChaChaPoly.seal + open of the payload. The floor column adds what the \
            framing itself needs (spec 4.6: the header is its own AEAD message, payloads over 65519 bytes are \
            chunked) as raw in-place calls. Figures are medians of 15 rounds; ratios are ours / reference.
            """
    )

    /// Handshakes (and elliptic-curve operations) per timing round.
    @Option(help: "Handshakes (and elliptic-curve primitive calls) per timing round.")
    var handshakes = 200

    /// Frame round trips (and hash or AEAD calls) per timing round; the 64 KiB size uses a hundredth.
    @Option(help: "Frame round trips (and hash or AEAD calls) per timing round; 64 KiB frames use a hundredth.")
    var iterations = 20_000

    /// Runs both parts.
    func run() throws {
        guard handshakes > 0, iterations > 0 else { throw ValidationError("--handshakes and --iterations must be positive") }
        AllocationCounter.preloadOrContinue()
        try benchmarkHandshake()
        print()
        try benchmarkFrames()
    }

    // MARK: - Handshake

    /// Times full handshakes, then each primitive, and prints both with the ratio.
    private func benchmarkHandshake() throws {
        var random = SystemRandom()
        let authority = Secp256k1SecretKey.generate(using: &random)
        let authorityPublic = authority.xOnlyPublicKey
        let serverStatic = NoiseKeyPair.generate(using: &random)
        let serverStaticX = serverStatic.secretKey.xOnlyPublicKey.bytes
        let now: UInt32 = 1_700_000_000

        /// One handshake as a server and a client make it; returns the two sessions.
        func handshake(_ random: inout SystemRandom) throws -> (client: NoiseSession, server: NoiseSession) {
            let certificate = try SignatureNoiseMessage.sign(
                authority: authority, serverStaticX: serverStaticX, validFrom: now, validity: 3600,
                auxiliaryRandom: random.bytes(32))
            var initiator = NoiseInitiator(authority: authorityPublic, ephemeral: .generate(using: &random))
            var responder = NoiseResponder(staticKey: serverStatic, ephemeral: .generate(using: &random), certificate: certificate)
            let act1 = try initiator.writeAct1()
            let (act2, server) = try responder.respond(toAct1: act1)
            return (try initiator.readAct2(act2, now: now), server)
        }

        let check = try handshake(&random)
        guard check.client.sender.key == check.server.receiver.key, check.client.receiver.key == check.server.sender.key,
              check.client.handshakeHash == check.server.handshakeHash
        else { throw CommandFailure("the two sides of the benchmark handshake disagree on the keys") }

        var failures = 0
        let handshakeNs = BenchmarkTiming.nanosecondsPerCall(iterations: handshakes) {
            do {
                BenchmarkTiming.consume(try handshake(&random))
            } catch {
                failures += 1
            }
        }
        guard failures == 0 else { throw CommandFailure("\(failures) benchmark handshakes failed") }

        let rows = try handshakePrimitives(authority: authority, random: &random)
        let sumNs = rows.reduce(0) { $0 + $1.ns * Double($1.count) }
        print("sv2 bench noise: NX handshake, \(handshakes) per round, median of 15 rounds, one core")
        BenchmarkTiming.printTable(
            ["primitive (reference)", "µs each", "per handshake", "µs per handshake"],
            rows.map { [$0.name, micro($0.ns, digits: 3), String($0.count), micro($0.ns * Double($0.count), digits: 2)] })
        print()
        BenchmarkTiming.printTable(
            ["", "µs per handshake", "handshakes/s", "ratio"],
            [["handshake (ours)", micro(handshakeNs), perSecond(handshakeNs), BenchmarkTiming.format(handshakeNs / sumNs, digits: 2) + "x"],
             ["sum of primitives (ref)", micro(sumNs), perSecond(sumNs), "1.00x"]])
        print("goal: <= 1.2x the sum of primitives (\(met(handshakeNs / sumNs <= 1.2))) and >= 4,000 handshakes/s per core "
            + "(\(met(1e9 / handshakeNs >= 4000))); SRI publishes 317 µs per handshake")
    }

    /// A primitive's median time and how many times one handshake needs it.
    private struct Primitive {
        /// What was timed.
        var name: String
        /// Median nanoseconds per call.
        var ns: Double
        /// Calls per handshake.
        var count: Int
    }

    /// Times each primitive a handshake is made of, with the number of times one handshake needs it.
    private func handshakePrimitives(authority: Secp256k1SecretKey, random: inout SystemRandom) throws -> [Primitive] {
        let ec = handshakes
        let fast = iterations
        var rows = [Primitive]()

        let someKey = Secp256k1SecretKey.generate(using: &random)
        let publicKey = someKey.compressedPublicKey
        rows.append(Primitive(name: "key generation (secret + public key)", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            BenchmarkTiming.consume(Secp256k1SecretKey.generate(using: &random).compressedPublicKey)
        }, count: 2))
        rows.append(Primitive(name: "ElligatorSwift encode", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            BenchmarkTiming.consume(try? ElligatorSwift.encode(compressedPublicKey: publicKey, randomness: random.bytes(32)))
        }, count: 2))

        // Peers' encodings differ from handshake to handshake: cycle through a few. Each received encoding is
        // decoded once (the responder uses the initiator's ephemeral key in two ECDHs, the initiator the static
        // key in an ECDH and the certificate check).
        let peers = (0..<16).map { _ in NoiseKeyPair.generate(using: &random).encoding }
        let peerXs = try peers.map { try ElligatorSwift.decodeX($0) }
        let ours = NoiseKeyPair(secretKey: someKey, random: &random).encoding
        var next = 0
        rows.append(Primitive(name: "ElligatorSwift decode", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            next = (next + 1) & 15
            BenchmarkTiming.consume(try? ElligatorSwift.decodeX(peers[next]))
        }, count: 3))
        rows.append(Primitive(name: "x-only ECDH of a decoded x (point, ecdh, BIP324 hash)", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            next = (next + 1) & 15
            BenchmarkTiming.consume(try? ElligatorSwift.xonlyECDH(
                secretKey: someKey, ours: ours, theirs: peers[next], theirX: peerXs[next], initiating: true))
        }, count: 4))

        let message = Sv2Hash.sha256([1, 2, 3])
        let signature = try authority.schnorrSign(message: message, auxiliaryRandom: random.bytes(32))
        rows.append(Primitive(name: "BIP340 sign (fresh aux randomness)", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            BenchmarkTiming.consume(try? authority.schnorrSign(message: message, auxiliaryRandom: random.bytes(32)))
        }, count: 1))
        let authorityPublic = authority.xOnlyPublicKey
        guard authorityPublic.verifySchnorr(signature: signature, message: message) else {
            throw CommandFailure("the benchmark signature does not verify")
        }
        rows.append(Primitive(name: "BIP340 verify", ns: BenchmarkTiming.nanosecondsPerCall(iterations: ec) {
            BenchmarkTiming.consume(authorityPublic.verifySchnorr(signature: signature, message: message))
        }, count: 1))

        // Each side: MixHash = SHA256(h || data) once each for data of 0, 80 and 90 bytes and twice for 64 (the
        // initial ck and h are constants); both sides hash the certificate (m, 10 + 32 bytes).
        let h = Sv2Hash.sha256([0])
        for (size, count, use) in [(32, 2, "MixHash of empty"), (96, 4, "MixHash"), (112, 2, "MixHash"), (122, 2, "MixHash")] {
            let data = [UInt8](repeating: 0x5a, count: size)
            rows.append(Primitive(name: "SHA-256 of \(size) B (\(use))", ns: BenchmarkTiming.nanosecondsPerCall(iterations: fast) {
                BenchmarkTiming.consume(Sv2Hash.sha256(data))
            }, count: count))
        }
        let certificateFields = [UInt8](repeating: 7, count: 10)
        rows.append(Primitive(name: "SHA-256 of 42 B (certificate m)", ns: BenchmarkTiming.nanosecondsPerCall(iterations: fast) {
            BenchmarkTiming.consume(Sv2Hash.sha256(certificateFields, h))
        }, count: 2))
        // MixKey twice per side (32-byte ECDH output), Split once per side (empty input).
        for (size, count) in [(32, 4), (0, 2)] {
            let material = [UInt8](repeating: 0x33, count: size)
            rows.append(Primitive(name: "HKDF, \(size) B input (\(size == 0 ? "Split" : "MixKey"))", ns: BenchmarkTiming.nanosecondsPerCall(iterations: fast) {
                BenchmarkTiming.consume(Sv2Hash.hkdf2(chainingKey: h, inputKeyMaterial: material))
            }, count: count))
        }
        // The encrypted static key (64 B) and certificate (74 B), sealed by the server and opened by the client,
        // with h as associated data.
        let key = [UInt8](repeating: 0x42, count: 32)
        for size in [64, 74] {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size + ChaChaPoly.tagSize, alignment: 16)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0x11)
            let plaintext = UnsafeRawBufferPointer(rebasing: buffer[..<size])
            ChaChaPoly.seal(key: key, nonce: 1, associatedData: h, plaintext: plaintext, into: buffer)
            let sealed = [UInt8](buffer)
            rows.append(Primitive(name: "ChaCha20-Poly1305 seal \(size) B + 32 B AD", ns: BenchmarkTiming.nanosecondsPerCall(iterations: fast) {
                ChaChaPoly.seal(key: key, nonce: 1, associatedData: h, plaintext: plaintext, into: buffer)
                BenchmarkTiming.consume(buffer.baseAddress)
            }, count: 1))
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { output.deallocate() }
            var failures = 0
            rows.append(Primitive(name: "ChaCha20-Poly1305 open \(size) B + 32 B AD", ns: sealed.withUnsafeBytes { ciphertext in
                BenchmarkTiming.nanosecondsPerCall(iterations: fast) {
                    if !ChaChaPoly.open(key: key, nonce: 1, associatedData: h, ciphertext: ciphertext, into: output) { failures += 1 }
                }
            }, count: 1))
            guard failures == 0 else { throw CommandFailure("a benchmark AEAD open failed") }
        }
        return rows
    }

    // MARK: - Frames

    /// Times encrypted frame round trips and the raw AEAD calls for three payload sizes.
    private func benchmarkFrames() throws {
        let key = Sv2Hash.sha256(Array("sv2 bench noise".utf8))
        var rows = [[String]]()
        for (name, size) in [("64 B", 64), ("1 KiB", 1024), ("64 KiB", 65536)] {
            let rounds = size > 4096 ? max(1, iterations / 100) : iterations
            var frame = [UInt8](repeating: 0, count: Sv2FrameHeader.size + size)
            frame[2] = 0x20
            frame[3] = UInt8(truncatingIfNeeded: size)
            frame[4] = UInt8(truncatingIfNeeded: size >> 8)
            frame[5] = UInt8(truncatingIfNeeded: size >> 16)
            for index in Sv2FrameHeader.size..<frame.count { frame[index] = UInt8(truncatingIfNeeded: index &* 31) }
            let plainFrame = frame

            var encoder = NoiseFrameEncoder(cipher: NoiseCipher(key: key))
            var decoder = NoiseFrameDecoder(cipher: NoiseCipher(key: key))
            var failures = 0
            let roundTrip = {
                do throws(NoiseError) {
                    decoder.feed(try encoder.encrypt(frame: plainFrame))
                    guard case let .frame(decoded) = try decoder.next() else {
                        failures += 1
                        return
                    }
                    BenchmarkTiming.consume(decoded)
                } catch {
                    failures += 1
                }
            }
            roundTrip()
            guard failures == 0, decoder.bufferedByteCount == 0 else { throw CommandFailure("a \(name) frame did not round-trip") }
            let oursNs = BenchmarkTiming.nanosecondsPerCall(iterations: rounds, roundTrip)
            let allocations = AllocationCounter.loaded().map { $0.allocationsPerCall(iterations: min(rounds, 1000), roundTrip) }
            guard failures == 0 else { throw CommandFailure("\(failures) \(name) frame round trips failed") }

            let referenceNs = try rawRoundTrip(key: key, sizes: [size], iterations: rounds)
            var floorSizes = [Sv2FrameHeader.size]
            var left = size
            while left > 0 {
                floorSizes.append(min(left, NoiseFraming.maximumChunk))
                left -= NoiseFraming.maximumChunk
            }
            let floorNs = try rawRoundTrip(key: key, sizes: floorSizes, iterations: rounds)
            rows.append([
                name, BenchmarkTiming.format(oursNs), megabytesPerSecond(size, oursNs),
                BenchmarkTiming.format(referenceNs), megabytesPerSecond(size, referenceNs),
                BenchmarkTiming.format(oursNs / referenceNs, digits: 2) + "x",
                BenchmarkTiming.format(floorNs), BenchmarkTiming.format(oursNs / floorNs, digits: 2) + "x",
                allocations.map { BenchmarkTiming.format($0, digits: 1) } ?? "n/a",
            ])
        }
        print("sv2 bench noise: encrypted frame round trip (encrypt, feed, next), \(iterations) per round (64 KiB: \(max(1, iterations / 100))), median of 15 rounds")
        BenchmarkTiming.printTable(
            ["payload", "ns ours", "MB/s ours", "ns seal+open (ref)", "MB/s ref", "ours/ref",
             "ns floor (header + chunks)", "ours/floor", "allocs"],
            rows)
        let missed = rows.filter { Double($0[5].dropLast()) ?? 0 > 1.5 }.map { $0[0] }
        print("goal: <= 1.5x one raw seal + open of the payload (\(missed.isEmpty ? "met" : "NOT met for " + missed.joined(separator: ", "))); "
            + "the floor adds the header's own AEAD message (spec 4.6)")
    }

    /// Median ns of one in-place ChaChaPoly.seal then open for each of `sizes`, with consecutive nonces.
    private func rawRoundTrip(key: [UInt8], sizes: [Int], iterations: Int) throws -> Double {
        let largest = sizes.max() ?? 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: largest + ChaChaPoly.tagSize, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a)
        var nonce: UInt64 = 0
        var failures = 0
        let ns = BenchmarkTiming.nanosecondsPerCall(iterations: iterations) {
            for size in sizes {
                let message = UnsafeMutableRawBufferPointer(rebasing: buffer[..<(size + ChaChaPoly.tagSize)])
                ChaChaPoly.seal(key: key, nonce: nonce, associatedData: [], plaintext: UnsafeRawBufferPointer(rebasing: message[..<size]), into: message)
                if !ChaChaPoly.open(key: key, nonce: nonce, associatedData: [], ciphertext: UnsafeRawBufferPointer(message), into: message) {
                    failures += 1
                }
                nonce &+= 1
            }
        }
        guard failures == 0 else { throw CommandFailure("a raw AEAD round trip failed") }
        return ns
    }

    // MARK: - Formatting

    /// "met" or "NOT met".
    private func met(_ condition: Bool) -> String {
        condition ? "met" : "NOT met"
    }

    /// Nanoseconds as microseconds.
    private func micro(_ ns: Double, digits: Int = 1) -> String {
        BenchmarkTiming.format(ns / 1000, digits: digits)
    }

    /// Calls per second for a call of `ns` nanoseconds, rounded.
    private func perSecond(_ ns: Double) -> String {
        String(Int((1e9 / ns).rounded()))
    }

    /// Throughput of `bytes` per `ns` in MB/s (10^6 bytes).
    private func megabytesPerSecond(_ bytes: Int, _ ns: Double) -> String {
        BenchmarkTiming.format(Double(bytes) / ns * 1000, digits: 0)
    }
}
