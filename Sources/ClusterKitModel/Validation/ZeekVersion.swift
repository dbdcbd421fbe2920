/// A Zeek release, `major.minor[.patch]`, selecting which ZeekControl's behaviour and text to reproduce.
public struct ZeekVersion: Sendable, Hashable, Comparable {
    /// The major version.
    public var major: Int
    /// The minor version.
    public var minor: Int
    /// The patch version; 0 when not given.
    public var patch: Int

    /// Creates a version.
    ///
    /// - Parameters:
    ///   - major: The major version.
    ///   - minor: The minor version.
    ///   - patch: The patch version.
    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `X.Y` or `X.Y.Z` (decimal numbers); `nil` otherwise.
    ///
    /// - Parameter text: The version text.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 4, part.allSatisfy(\.isASCIIDigit), let number = Int(part) else {
                return nil
            }
            numbers.append(number)
        }
        self.init(numbers[0], numbers[1], numbers.count == 3 ? numbers[2] : 0)
    }

    /// The newest text ZeekControl writes, and the generator's default: Zeek 8.1 and later.
    public static let current = ZeekVersion(8, 1)
    /// The oldest version the generator writes for.
    public static let oldestSupported = ZeekVersion(5, 0)

    /// Orders by major, minor, then patch.
    ///
    /// - Parameters:
    ///   - lhs: A version.
    ///   - rhs: Another version.
    /// - Returns: Whether `lhs` is older.
    public static func < (lhs: ZeekVersion, rhs: ZeekVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}

extension ZeekVersion: CustomStringConvertible {
    /// `X.Y`, or `X.Y.Z` when the patch is not 0.
    public var description: String { patch == 0 ? "\(major).\(minor)" : "\(major).\(minor).\(patch)" }
}
