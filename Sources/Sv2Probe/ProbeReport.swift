import Foundation

/// How one check of `sv2 probe` came out.
public enum ProbeVerdict: Sendable, Hashable {
    /// The peer did what the spec asks; the text says what was seen.
    case pass(String)
    /// The peer broke a MUST: what was expected and what came back.
    case fail(expected: String, got: String)
    /// The peer's behaviour is allowed but not what the spec recommends (a SHOULD), or the spec is silent.
    case warn(String)
    /// The check does not apply to this peer, or could not be brought about; the text says why.
    case skip(String)

    /// The word printed at the start of the report line.
    public var word: String {
        switch self {
        case .pass: return "PASS"
        case .fail: return "FAIL"
        case .warn: return "WARN"
        case .skip: return "SKIP"
        }
    }

    /// What the report line says after the check's name.
    public var detail: String {
        switch self {
        case let .pass(text), let .warn(text), let .skip(text): return text
        case let .fail(expected, got): return "expected \(expected); got \(got)"
        }
    }

    /// True for a failure.
    public var isFailure: Bool {
        if case .fail = self { return true }
        return false
    }
}

/// One line of a probe report: which check, the spec section it grades against, and its verdict.
public struct ProbeResult: Sendable, Hashable {
    /// The check's name (what `--only` selects).
    public var name: String
    /// The spec section (or open question) the check refers to.
    public var section: String
    /// The outcome.
    public var verdict: ProbeVerdict

    /// A result from its parts.
    public init(name: String, section: String, verdict: ProbeVerdict) {
        self.name = name
        self.section = section
        self.verdict = verdict
    }
}

extension ProbeResult {
    /// The report line: verdict, name padded to `nameWidth`, detail and section.
    public func line(nameWidth: Int) -> String {
        "\(verdict.word)  \(name.padding(toLength: max(nameWidth, name.count), withPad: " ", startingAt: 0))  \(verdict.detail) [spec \(section)]"
    }
}

/// The results of one probe run (or of one graded connection) and their rendering as text or JSON.
public struct ProbeReport: Sendable, Hashable {
    /// What was graded (an endpoint, or a client connection).
    public var subject: String
    /// The results in the order the checks ran.
    public var results: [ProbeResult]

    /// A report on `subject`.
    public init(subject: String, results: [ProbeResult] = []) {
        self.subject = subject
        self.results = results
    }

    /// True when no check failed (the exit status is 0 exactly then).
    public var passed: Bool {
        !results.contains { $0.verdict.isFailure }
    }

    /// How many results have each verdict word, in the order PASS, FAIL, WARN, SKIP.
    public var counts: [(word: String, count: Int)] {
        ["PASS", "FAIL", "WARN", "SKIP"].map { word in (word, results.count { $0.verdict.word == word }) }
    }

    /// One line per check, then the summary line.
    public var lines: [String] {
        let width = results.map(\.name.count).max() ?? 0
        return results.map { $0.line(nameWidth: width) } + [summary]
    }

    /// The last line: the counts and whether the subject conforms.
    public var summary: String {
        let tally = counts.map { "\($0.count) \($0.word.lowercased())" }.joined(separator: ", ")
        return "\(subject): \(tally) — \(passed ? "conforms" : "DOES NOT CONFORM")"
    }

    /// The report as one JSON object: `subject`, `passed`, and `checks` (name, section, verdict, detail).
    public var json: String {
        let object: [String: Any] = [
            "subject": subject,
            "passed": passed,
            "checks": results.map { ["name": $0.name, "section": $0.section, "verdict": $0.verdict.word, "detail": $0.verdict.detail] },
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
