import Sv2Noise

/// The `handshake` target: the input is act 1 for a responder with fixed keys (any length), and act 2 for an
/// initiator with a fixed ephemeral key that has written its act 1.
///
/// Checked: act 1 is exactly the 64 bytes of an ElligatorSwift encoding, every 64-byte string is one, and act 1
/// carries no authentication tag, so the responder must answer every 64-byte input with a 234-byte act 2 and
/// refuse every other length with `wrongActLength`; a responder answers once. The initiator must refuse every
/// input but the genuine act 2 (the fixed responder's answer to its act 1) with a NoiseError, and complete the
/// handshake on that one with the responder's keys.
enum HandshakeFuzz {
    /// The state every input starts from, built once.
    struct Fixture {
        /// A responder that has not answered yet.
        let responder: NoiseResponder
        /// An initiator that has written ``act1`` and waits for act 2.
        let initiator: NoiseInitiator
        /// The initiator's act 1.
        let act1: [UInt8]
        /// The responder's answer to ``act1``: the one act 2 the initiator accepts.
        let act2: [UInt8]
        /// The responder's session after ``act2``.
        let responderSession: NoiseSession
    }

    /// The fixture, from ``FuzzKeys``.
    static let fixture: Fixture = {
        do throws(NoiseError) {
            let responder = NoiseResponder(
                staticKey: FuzzKeys.responderStatic, ephemeral: FuzzKeys.responderEphemeral, certificate: FuzzKeys.certificate)
            var initiator = NoiseInitiator(authority: FuzzKeys.authority.xOnlyPublicKey, ephemeral: FuzzKeys.initiatorEphemeral)
            let act1 = try initiator.writeAct1()
            var answering = responder
            let (act2, session) = try answering.respond(toAct1: act1)
            var checking = initiator
            _ = try checking.readAct2(act2, now: FuzzKeys.now)
            return Fixture(responder: responder, initiator: initiator, act1: act1, act2: act2, responderSession: session)
        } catch {
            fatalError("fixed fuzz handshake: \(error)")
        }
    }()

    /// Builds the fixture.
    static func prepare() {
        _ = fixture
    }

    /// Feeds one input to a fresh copy of the responder and of the initiator.
    static func run(_ bytes: [UInt8]) {
        respond(to: bytes)
        readAct2(bytes)
    }

    /// The input as act 1: an act 2 for every 64 bytes, `wrongActLength` for every other length; never twice.
    static func respond(to bytes: [UInt8]) {
        var responder = fixture.responder
        do throws(NoiseError) {
            let (act2, _) = try responder.respond(toAct1: bytes)
            guard bytes.count == NoiseInitiator.act1Size else { fatalError("responder accepted an act 1 of \(bytes.count) bytes") }
            guard act2.count == NoiseInitiator.act2Size, act2.prefix(64).elementsEqual(FuzzKeys.responderEphemeral.encoding) else {
                fatalError("responder answered with a malformed act 2 of \(act2.count) bytes")
            }
            guard bytes != fixture.act1 || act2 == fixture.act2 else { fatalError("the genuine act 1 got a different act 2") }
        } catch {
            guard bytes.count != NoiseInitiator.act1Size else {
                fatalError("responder refused a 64-byte act 1 (every 64-byte string is an encoding): \(error)")
            }
            guard error == .wrongActLength(act: 1, expected: NoiseInitiator.act1Size, actual: bytes.count) else {
                fatalError("act 1 of \(bytes.count) bytes refused with \(error), not for its length")
            }
        }
        do throws(NoiseError) {
            _ = try responder.respond(toAct1: bytes)
            fatalError("responder answered a second act 1")
        } catch {
            guard case .invalidState = error else { fatalError("a second act 1 refused with \(error), not as out of order") }
        }
    }

    /// The input as act 2: refused with a NoiseError unless it is the genuine act 2, which completes the handshake.
    static func readAct2(_ bytes: [UInt8]) {
        var initiator = fixture.initiator
        do throws(NoiseError) {
            let session = try initiator.readAct2(bytes, now: FuzzKeys.now)
            guard bytes == fixture.act2 else { fatalError("initiator accepted an act 2 that is not the responder's") }
            let responder = fixture.responderSession
            guard session.handshakeHash == responder.handshakeHash, session.sender.key == responder.receiver.key,
                  session.receiver.key == responder.sender.key, session.certificate == FuzzKeys.certificate
            else { fatalError("initiator and responder finished the genuine handshake with different keys") }
        } catch {
            guard bytes != fixture.act2 else { fatalError("initiator refused the genuine act 2: \(error)") }
            guard bytes.count == NoiseInitiator.act2Size
                || error == .wrongActLength(act: 2, expected: NoiseInitiator.act2Size, actual: bytes.count)
            else { fatalError("act 2 of \(bytes.count) bytes refused with \(error), not for its length") }
        }
    }
}
