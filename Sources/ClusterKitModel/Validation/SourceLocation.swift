/// A place in an input file: the file's name and, when one applies, a 1-based line number.
///
/// Issues about a whole file (such as `no proxy defined in node config`) carry no line.
public struct SourceLocation: Sendable, Hashable, Comparable {
    /// The file's name or path, as the caller gave it.
    public var file: String
    /// The 1-based line number, or `nil` when the location is the whole file.
    public var line: Int?

    /// Creates a location.
    ///
    /// - Parameters:
    ///   - file: The file's name or path.
    ///   - line: The 1-based line number, or `nil` for the whole file.
    public init(file: String, line: Int? = nil) {
        self.file = file
        self.line = line
    }

    /// Orders by file name, then line; a location without a line comes after every line of its file.
    ///
    /// - Parameters:
    ///   - lhs: A location.
    ///   - rhs: Another location.
    /// - Returns: Whether `lhs` comes first.
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        if lhs.file != rhs.file { return lhs.file < rhs.file }
        return (lhs.line ?? Int.max) < (rhs.line ?? Int.max)
    }
}

extension SourceLocation: CustomStringConvertible {
    /// `file:line`, or `file` when there is no line, as compilers print locations.
    public var description: String {
        guard let line else { return file }
        return "\(file):\(line)"
    }
}
