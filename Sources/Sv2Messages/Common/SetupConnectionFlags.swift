/// The subprotocols a SetupConnection can ask for (spec 3.6.1, `protocol`).
public enum Sv2SubProtocol: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The Mining Protocol (spec 5).
    case mining = 0
    /// The Job Declaration Protocol (spec 6).
    case jobDeclaration = 1
    /// The Template Distribution Protocol (spec 7).
    case templateDistribution = 2

    /// The protocol's name and number, e.g. `Mining (0)`.
    public var description: String {
        switch self {
        case .mining: return "Mining (0)"
        case .jobDeclaration: return "Job Declaration (1)"
        case .templateDistribution: return "Template Distribution (2)"
        }
    }
}

/// SetupConnection.flags of the Mining Protocol (spec 5.3.1); also the flags of SetupConnection.Error.
public struct MiningSetupFlags: OptionSet, Hashable, Sendable {
    /// The bits.
    public var rawValue: UInt32

    /// Flags from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// REQUIRES_STANDARD_JOBS: the downstream can only take NewMiningJob (no extended or group jobs).
    public static let requiresStandardJobs = MiningSetupFlags(rawValue: 1 << 0)
    /// REQUIRES_WORK_SELECTION: the client will send SetCustomMiningJob.
    public static let requiresWorkSelection = MiningSetupFlags(rawValue: 1 << 1)
    /// REQUIRES_VERSION_ROLLING: the client needs to roll version bits.
    public static let requiresVersionRolling = MiningSetupFlags(rawValue: 1 << 2)
}

/// SetupConnection.Success.flags of the Mining Protocol (spec 5.3.2).
public struct MiningSetupSuccessFlags: OptionSet, Hashable, Sendable {
    /// The bits.
    public var rawValue: UInt32

    /// Flags from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// REQUIRES_FIXED_VERSION: the upstream accepts no change to the version field.
    public static let requiresFixedVersion = MiningSetupSuccessFlags(rawValue: 1 << 0)
    /// REQUIRES_EXTENDED_CHANNELS: the upstream refuses standard channels.
    public static let requiresExtendedChannels = MiningSetupSuccessFlags(rawValue: 1 << 1)
}

/// SetupConnection.flags of the Job Declaration Protocol (spec 6.4.1); none are defined for its Success.
public struct JobDeclarationSetupFlags: OptionSet, Hashable, Sendable {
    /// The bits.
    public var rawValue: UInt32

    /// Flags from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// DECLARE_TX_DATA: the client reveals the template's transactions (full-template declaration mode).
    public static let declareTransactionData = JobDeclarationSetupFlags(rawValue: 1 << 0)
}
