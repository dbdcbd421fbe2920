/// One column of a Zeek log: its name and its type, as the `#fields` and `#types` header lines give them.
public struct ZeekLogField: Sendable, Hashable {
    /// The types a column of a ClusterKit log may have, named as Zeek names them in `#types`.
    public enum FieldType: String, Sendable, Hashable, CaseIterable {
        /// `bool`: `T` or `F`.
        case bool
        /// `count`: an unsigned integer.
        case count
        /// `int`: a signed integer.
        case int
        /// `time`: an absolute time, seconds since the epoch.
        case time
        /// `interval`: a duration in seconds.
        case interval
        /// `string`: text (bytes).
        case string
    }

    /// The column's name, such as `ts`.
    public var name: String
    /// The column's type.
    public var type: FieldType

    /// Creates a column.
    ///
    /// - Parameters:
    ///   - name: The name.
    ///   - type: The type.
    public init(_ name: String, _ type: FieldType) {
        self.name = name
        self.type = type
    }
}

/// One value of a Zeek log line.
public enum ZeekLogValue: Sendable, Hashable {
    /// An unset (optional) field: `-` in ASCII, left out in JSON.
    case unset
    /// A `bool`.
    case bool(Bool)
    /// A `count`.
    case count(UInt64)
    /// An `int`.
    case int(Int64)
    /// A `time`.
    case time(Broker.Timestamp)
    /// An `interval`.
    case interval(Duration)
    /// A `string`.
    case string(String)
}

/// A record that is one line of a Zeek log, such as `Cluster::Info` or `Management::Log::Info`.
public protocol ZeekLogRecord: Sendable {
    /// The log's columns, in order.
    static var zeekLogFields: [ZeekLogField] { get }
    /// The line's values, one per column of ``zeekLogFields``, in order.
    var zeekLogValues: [ZeekLogValue] { get }
}
