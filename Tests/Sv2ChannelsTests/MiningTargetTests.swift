import Bitcoin
import Foundation
import Sv2Binary
import Sv2Channels
import Sv2TestSupport
import Testing

/// A dictionary value of a JSON object.
func object(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

/// An array of JSON objects.
func objects(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

/// A string of a JSON object, "" when absent.
func string(_ value: Any?) -> String { value as? String ?? "" }

/// A number of a JSON object (a JSON number or a decimal string), NaN when absent.
func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? (value as? String).flatMap(Double.init) ?? .nan }

/// A U256 from display-order (big-endian) hex; zero when malformed, so a typo fails the comparison.
func display(_ text: String) -> U256 { U256(displayHex: text) ?? .zero }

/// Whether `actual` is within `relative` of `expected`.
func close(_ actual: Double, _ expected: Double, relative: Double) -> Bool {
    abs(actual - expected) <= relative * abs(expected)
}

@Suite("target math against SRI (target_difficulty.json)")
struct MiningTargetTests {
    let file: [String: Any]

    init() throws {
        file = try loadJSON("target_difficulty.json")
    }

    @Test("hash_rate_to_target_literal: targets quoted in SRI's channel tests, byte for byte")
    func hashrateToTargetLiteral() {
        let vectors = objects(file["hash_rate_to_target_literal"])
        #expect(vectors.count == 3)
        for vector in vectors {
            let target = MiningTarget.target(hashrate: number(vector["hashrate"]), sharesPerMinute: number(vector["shares_per_minute"]))
            #expect(target.displayHex == string(vector["target_be_hex"]), "\(vector)")
            if let wire = vector["target_le_hex"] as? String { #expect(target.hex == wire) }
        }
    }

    @Test("hash_rate_to_target_computed: every vector byte for byte, including hashrate 0 and u128 saturation")
    func hashrateToTargetComputed() {
        let vectors = objects(object(file["hash_rate_to_target_computed"])["vectors"])
        #expect(vectors.count == 13)
        for vector in vectors {
            let hashrate = number(vector["hashrate_f64"])
            let spm = number(vector["shares_per_minute"])
            let target = MiningTarget.target(hashrate: hashrate, sharesPerMinute: spm)
            #expect(target.displayHex == string(vector["target_be_hex"]), "hashrate \(hashrate) spm \(spm)")
            #expect(target.hex == string(vector["target_le_hex (U256 wire order)"]), "hashrate \(hashrate) spm \(spm)")
        }
    }

    @Test("target(hashrate:) for inputs SRI's `as u128` maps to 0 or saturates")
    func hashrateEdges() {
        let hardest = U256(w0: 0, w1: 0, w2: 1, w3: 0)
        for hashrate in [0, -1, -.infinity, .nan] as [Double] {
            #expect(MiningTarget.target(hashrate: hashrate, sharesPerMinute: 6) == .max, "\(hashrate)")
        }
        #expect(MiningTarget.target(hashrate: 1e6, sharesPerMinute: -6) == .max)
        #expect(MiningTarget.target(hashrate: .infinity, sharesPerMinute: 6) == hardest)
        #expect(MiningTarget.target(hashrate: 1e6, sharesPerMinute: 0) == hardest)
        // h = 1: (2^256 - 2) / 2 = 2^255 - 1.
        #expect(MiningTarget.target(hashrate: 1, sharesPerMinute: 60) == U256(w0: .max, w1: .max, w2: .max, w3: .max >> 1))
        // Fractions of a hash per share truncate to 0.
        #expect(MiningTarget.target(hashrate: 0.99, sharesPerMinute: 60) == .max)
    }

    @Test("hash_rate_from_target_literal and _computed: SRI's truncated results within 1 hash/s")
    func hashrateFromTarget() {
        let literal = object(file["hash_rate_from_target_literal"])
        let target = MiningTarget.target(hashrate: 202470.828, sharesPerMinute: 1)
        let hashrate = MiningTarget.hashrate(target: target, sharesPerMinute: 10)
        #expect(abs(hashrate - number(literal["python_port_result"])) < 1, "\(hashrate)")

        let computed = objects(file["hash_rate_from_target_computed"])
        #expect(computed.count == 4)
        var checked = 0
        for vector in computed {
            let target = display(string(vector["target_be_hex"]))
            let hashrate = MiningTarget.hashrate(target: target, sharesPerMinute: number(vector["shares_per_minute"]))
            if let expected = vector["hash_rate_from_target"] as? NSNumber {
                #expect(abs(hashrate - expected.doubleValue) < 1, "\(target.displayHex): \(hashrate)")
                checked += 1
            } else {
                // SRI overflows here (ArithmeticOverflow); this is the target of 1 H/s at 1 share per minute.
                #expect(string(vector["hash_rate_from_target"]).hasPrefix("ArithmeticOverflow"))
                #expect(close(hashrate, 1, relative: 1e-12), "\(hashrate)")
            }
        }
        #expect(checked == 3)
    }

    @Test("hash_rate_from_target_errors: where SRI overflows we return the real value")
    func hashrateFromTargetErrors() {
        let cases = objects(object(file["hash_rate_from_target_errors"])["cases"])
        #expect(cases.map { string($0["case"]) } == ["target 0", "target 0x7fff..ff, spm 0.001", "target 2^256-1, spm 4.0"])
        // 2^256 hashes per share, minus one, at 1 share per minute.
        #expect(close(MiningTarget.hashrate(target: .zero, sharesPerMinute: 1), 0x1p256 / 60, relative: 1e-15))
        // Two hashes per share: h = 1.
        let half = U256(w0: .max, w1: .max, w2: .max, w3: .max >> 1)
        #expect(close(MiningTarget.hashrate(target: half, sharesPerMinute: 0.001), 0.001 / 60, relative: 1e-12))
        // Every hash is a share: h = 0.
        #expect(MiningTarget.hashrate(target: .max, sharesPerMinute: 4) == 0)
    }

    @Test("hashrate(target:) inverts target(hashrate:) from 1 H/s to 1 EH/s", arguments: [1.0, 6.0, 30.0])
    func roundTrip(sharesPerMinute: Double) {
        var hashrate = 1.0
        while hashrate <= 1e18 {
            let target = MiningTarget.target(hashrate: hashrate, sharesPerMinute: sharesPerMinute)
            let back = MiningTarget.hashrate(target: target, sharesPerMinute: sharesPerMinute)
            // Truncating the hashes per share to an integer loses less than one hash.
            #expect(abs(back - hashrate) <= max(1e-9 * hashrate, sharesPerMinute / 60), "\(hashrate) -> \(back)")
            hashrate *= 7.3
        }
    }

    @Test("target_to_difficulty_literal: SRI's f64 difficulty within its epsilon")
    func targetToDifficulty() {
        let vectors = objects(object(file["target_to_difficulty_literal"])["vectors"])
        #expect(vectors.count == 2)
        for vector in vectors {
            let difficulty = MiningTarget.difficulty(target: display(string(vector["target_be_hex"])))
            #expect(abs(difficulty - number(vector["expected_difficulty_approx"])) <= number(vector["epsilon"]), "\(difficulty)")
            #expect(abs(difficulty - number(vector["python_port_f64"])) <= 1e-9, "\(difficulty)")
        }
    }

    @Test("translator_sv1_difficulty_from_target: the translator's integer approximation agrees within 1e-4")
    func translatorDifficulty() {
        // sv2-apps divides by 0x00000000ffffffff…ff with integer division; the exact ratio differs from it by less than
        // 2^-16 (the pdiff constant) plus the truncation, at most 1/14484 for these vectors.
        let vectors = objects(object(file["translator_sv1_difficulty_from_target"])["vectors"])
        #expect(vectors.count == 5)
        for vector in vectors {
            let target = display(string(vector["target_be_hex"]))
            let expected = number(vector["translator_difficulty"])
            #expect(close(MiningTarget.difficulty(target: target), expected, relative: 1e-4), "\(target.displayHex)")
        }
    }

    @Test("difficulty 1 is the nBits 0x1d00ffff target; target(difficulty:) inverts difficulty(target:)")
    func difficultyTargets() throws {
        let nbits = objects(object(file["nbits_to_target"])["vectors"])
        let diffOne = try #require(nbits.first { string($0["nbits"]) == "0x1d00ffff" })
        #expect(MiningTarget.difficultyOne == display(string(diffOne["target_be_hex"])))
        #expect(MiningTarget.difficultyOne == (try CompactTarget(bits: 0x1d00_ffff).target()))
        #expect(MiningTarget.target(difficulty: 1) == MiningTarget.difficultyOne)
        #expect(MiningTarget.difficulty(target: MiningTarget.difficultyOne) == 1)
        for vector in nbits {
            let target = display(string(vector["target_be_hex"]))
            let back = MiningTarget.target(difficulty: MiningTarget.difficulty(target: target))
            #expect(close(Double(back), Double(target), relative: 1e-15), "\(string(vector["nbits"]))")
        }
        #expect(MiningTarget.target(difficulty: 1024) == MiningTarget.difficultyOne.quotientAndRemainder(dividingBy: U256(1024)).quotient)
        for difficulty in [0, -1, .nan, 1e-300] as [Double] {
            #expect(MiningTarget.target(difficulty: difficulty) == .max, "\(difficulty)")
        }
        #expect(MiningTarget.target(difficulty: .infinity) == .zero)
        #expect(MiningTarget.difficulty(target: .zero) == .infinity)
    }

    @Test("expectedHashes(target:) is 2^256 / (target + 1)")
    func expectedHashes() {
        #expect(MiningTarget.expectedHashes(target: .max) == 1)
        #expect(MiningTarget.expectedHashes(target: .zero) == 0x1p256)
        #expect(MiningTarget.expectedHashes(target: U256(1)) == 0x1p255)
        let half = U256(w0: .max, w1: .max, w2: .max, w3: .max >> 1)
        #expect(MiningTarget.expectedHashes(target: half) == 2)
        // Difficulty 1 stands for 2^48 / 0xffff = 4295032833.000015 hashes.
        #expect(close(MiningTarget.expectedHashes(target: MiningTarget.difficultyOne), 0x1p48 / 65535, relative: 1e-15))
        // SRI's 1000 H/s at 1 share per minute: 60,000 hashes per share, plus the one from the formula's h + 1.
        let target = MiningTarget.target(hashrate: 1000, sharesPerMinute: 1)
        #expect(close(MiningTarget.expectedHashes(target: target), 60001, relative: 1e-12))
    }
}
