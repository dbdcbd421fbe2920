/// A Broker or ZeroMQ topic, such as `zeek/cluster/node/worker-1/`.
///
/// A topic is a plain string; a subscription is a topic used as a prefix. Broker and Zeek's ZeroMQ backend
/// both match a published topic against a subscription by **byte prefix**, with no regard for separators:
/// a subscription to `zeek/management/controller` also receives `zeek/management/controllerX`, and the
/// empty subscription receives everything.
///
/// Equality, hashing and ordering compare the UTF-8 bytes, as Broker does. (Swift's `String` comparison
/// would treat canonically equivalent spellings such as a precomposed and a decomposed `é` as equal; Broker
/// does not.)
public struct Topic: Sendable {
    /// The topic text.
    public let name: String

    /// Creates a topic.
    ///
    /// - Parameter name: The topic text, used as it is.
    public init(_ name: String) {
        var name = name
        name.makeContiguousUTF8()
        self.name = name
    }

    /// The empty topic: as a subscription it matches every topic.
    public static let all = Topic("")

    /// The number of UTF-8 bytes in the topic.
    public var byteCount: Int { name.utf8.count }

    /// A Boolean value indicating whether the topic has no bytes.
    public var isEmpty: Bool { name.isEmpty }

    /// Whether this topic starts with the bytes of `prefix`: whether a subscription to `prefix` receives it.
    ///
    /// - Parameter prefix: The subscription prefix.
    /// - Returns: `true` when every byte of `prefix` starts this topic (always for the empty prefix).
    public func hasPrefix(_ prefix: Topic) -> Bool {
        name.utf8.starts(with: prefix.name.utf8)
    }

    /// Whether a subscription to this topic, used as a prefix, receives a publication on `topic`.
    ///
    /// - Parameter topic: The published topic.
    /// - Returns: `topic.hasPrefix(self)`.
    public func matches(_ topic: Topic) -> Bool {
        topic.hasPrefix(self)
    }

    /// A topic made of this topic's text followed by `suffix`, with no separator added.
    ///
    /// - Parameter suffix: The text to append.
    /// - Returns: The longer topic.
    public func appending(_ suffix: String) -> Topic {
        Topic(name + suffix)
    }

    /// Calls `body` with the topic's UTF-8 bytes.
    ///
    /// - Parameter body: A closure that reads the bytes; the buffer is valid only during the call.
    /// - Returns: What `body` returns.
    func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try name.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        let bytes = Array(name.utf8)
        return try bytes.withUnsafeBufferPointer(body)
    }
}

extension Topic: Hashable {
    /// Whether two topics have the same bytes.
    ///
    /// - Parameters:
    ///   - lhs: A topic.
    ///   - rhs: Another topic.
    /// - Returns: `true` when the UTF-8 bytes are equal.
    public static func == (lhs: Topic, rhs: Topic) -> Bool {
        lhs.name.utf8.elementsEqual(rhs.name.utf8)
    }

    /// Hashes the topic's bytes.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(byteCount)
    }
}

extension Topic: Comparable {
    /// Orders topics by their UTF-8 bytes, so a prefix sorts before the topics it matches.
    ///
    /// - Parameters:
    ///   - lhs: A topic.
    ///   - rhs: Another topic.
    /// - Returns: Whether `lhs` sorts first.
    public static func < (lhs: Topic, rhs: Topic) -> Bool {
        lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}

extension Topic: ExpressibleByStringLiteral {
    /// Creates a topic from a string literal.
    ///
    /// - Parameter value: The topic text.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension Topic: CustomStringConvertible {
    /// The topic text.
    public var description: String { name }
}
