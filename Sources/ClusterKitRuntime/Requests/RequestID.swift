import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// The id of a tracked request: an opaque string, as Zeek's Management framework uses.
///
/// Zeek makes request ids with `unique_id("")`; clients such as `zeek-client` make their own. ClusterKit
/// never looks inside an id.
public struct RequestID: Sendable, Hashable, Comparable {
    /// The id text.
    public let rawValue: String

    /// Creates an id.
    ///
    /// - Parameter rawValue: The id text.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// Orders ids by their text.
    ///
    /// - Parameters:
    ///   - lhs: An id.
    ///   - rhs: Another id.
    /// - Returns: Whether `lhs` sorts first.
    public static func < (lhs: RequestID, rhs: RequestID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

extension RequestID: ExpressibleByStringLiteral {
    /// Creates an id from a string literal.
    ///
    /// - Parameter value: The id text.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension RequestID: CustomStringConvertible {
    /// The id text.
    public var description: String { rawValue }
}

/// Makes request ids for a ``RequestTracker``.
///
/// ``random`` is the default; tests use ``sequential(prefix:)`` for ids they can predict, or any closure.
public struct RequestIDGenerator: Sendable {
    private let make: @Sendable () -> RequestID

    /// Creates a generator from a closure.
    ///
    /// - Parameter make: Returns a new id on each call; ids of pending requests must not repeat.
    public init(_ make: @escaping @Sendable () -> RequestID) {
        self.make = make
    }

    /// A new id.
    ///
    /// - Returns: The next id.
    public func next() -> RequestID {
        make()
    }

    /// Random ids like Zeek's `unique_id("")`: 96 random bits written in base 62 (`0-9A-Za-z`).
    public static var random: RequestIDGenerator {
        RequestIDGenerator {
            var generator = SystemRandomNumberGenerator()
            return RequestID(
                Self.base62(high: UInt64(UInt32.random(in: .min ... .max, using: &generator)), low: generator.next())
            )
        }
    }

    /// Sequential ids such as `r-1` and `r-2`, counting from 1 for each generator made.
    ///
    /// - Parameter prefix: The text before the number.
    /// - Returns: A generator with its own counter.
    public static func sequential(prefix: String = "r-") -> RequestIDGenerator {
        let counter = Counter()
        return RequestIDGenerator { RequestID(prefix + String(counter.next())) }
    }

    /// Writes a 96-bit number (`high` holds the top 32 bits) in base 62, most significant digit first.
    static func base62(high: UInt64, low: UInt64) -> String {
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var high = high
        var low = low
        var text: [UInt8] = []
        repeat {
            // Divide the 96-bit number (high:low) by 62, keeping the remainder.
            let highQuotient = high / 62
            let highRemainder = high % 62
            let (lowQuotient, remainder) = UInt64(62).dividingFullWidth((highRemainder, low))
            text.append(digits[Int(remainder)])
            high = highQuotient
            low = lowQuotient
        } while high != 0 || low != 0
        return String(decoding: text.reversed(), as: UTF8.self)
    }

    private final class Counter: Sendable {
        private let value = Guarded<UInt64>(0)

        func next() -> UInt64 {
            value.withLock {
                $0 += 1
                return $0
            }
        }
    }
}
