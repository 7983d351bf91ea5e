/// A failure caused by the input a command was given (bad hex, a malformed frame, an unknown field): the command
/// prints `Error: <description>` and exits with status 1, unlike a usage error (status 64), which also prints help.
struct CommandFailure: Error, CustomStringConvertible {
    /// The sentence for the user.
    let description: String

    /// Wraps a sentence.
    init(_ description: String) {
        self.description = description
    }
}
