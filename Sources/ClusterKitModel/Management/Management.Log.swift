extension Management {
    /// Zeek's `Management::Log` module: the log a controller and its agents write (Zeek:
    /// `policy/frameworks/management/log.zeek`).
    public enum Log: Sendable {
        /// Zeek's `Management::Log::Level`: how important a line is.
        ///
        /// A log writes the lines of its level and above (Zeek's `Management::Log::level`, default `INFO`).
        public enum Level: Int, Sendable, Hashable, Comparable, CaseIterable {
            /// `DEBUG = 10`.
            case debug = 10
            /// `INFO = 20`.
            case info = 20
            /// `WARNING = 30`.
            case warning = 30
            /// `ERROR = 40`.
            case error = 40

            /// The level as the log's `level` column writes it: `DEBUG`, `INFO`, `WARNING`, `ERROR`.
            public var name: String {
                switch self {
                case .debug: "DEBUG"
                case .info: "INFO"
                case .warning: "WARNING"
                case .error: "ERROR"
                }
            }

            /// Reads a level by name, in any case: `debug`, `info`, `warning`, `error`.
            ///
            /// - Parameter name: The name.
            public init?(name: String) {
                guard let level = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
                self = level
            }

            /// Orders by importance.
            ///
            /// - Parameters:
            ///   - lhs: A level.
            ///   - rhs: Another level.
            /// - Returns: Whether `lhs` is less important.
            public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
        }

        /// Zeek's `Management::Log::Info`: one line of the management log.
        public struct Info: BrokerRecord, ZeekLogRecord, Sendable, Hashable {
            /// When the message was generated.
            public var ts: Broker.Timestamp
            /// The name of the node writing the line, such as `controller` or `agent-host1`.
            public var node: String
            /// The level's name (``Level/name``), such as `INFO`.
            public var level: String
            /// The writer's role (``Management/Role/logName``), such as `CONTROLLER`.
            public var role: String
            /// The message, such as `rx Management::Controller::API::get_nodes_request 1`.
            public var message: String

            /// Creates a log line.
            ///
            /// - Parameters:
            ///   - ts: The time.
            ///   - node: The writing node.
            ///   - level: The level's name.
            ///   - role: The role's name.
            ///   - message: The message.
            public init(ts: Broker.Timestamp, node: String, level: String, role: String, message: String) {
                self.ts = ts
                self.node = node
                self.level = level
                self.role = role
                self.message = message
            }

            /// `Management::Log::Info`.
            public static let zeekTypeName = "Management::Log::Info"
            /// The fields in declaration order.
            public static let fieldNames = ["ts", "node", "level", "role", "message"]

            /// The log's columns: `ts` (`time`), then `node`, `level`, `role` and `message` (`string`).
            public static let zeekLogFields: [ZeekLogField] = [
                ZeekLogField("ts", .time), ZeekLogField("node", .string), ZeekLogField("level", .string),
                ZeekLogField("role", .string), ZeekLogField("message", .string),
            ]

            /// Reads the fields in order.
            ///
            /// - Parameter record: The reader.
            /// - Throws: ``Broker/ConversionError``.
            public init(reading record: inout Broker.RecordReader) throws {
                self.init(
                    ts: try record.required(),
                    node: try record.required(),
                    level: try record.required(),
                    role: try record.required(),
                    message: try record.required()
                )
            }

            /// The field values in declaration order.
            public var fieldValues: [Broker.Value] {
                [ts.brokerValue, node.brokerValue, level.brokerValue, role.brokerValue, message.brokerValue]
            }

            /// The line's values, in column order.
            public var zeekLogValues: [ZeekLogValue] {
                [.time(ts), .string(node), .string(level), .string(role), .string(message)]
            }
        }
    }
}

extension Management.Role {
    /// The role as the management log's `role` column writes it (Zeek's `r2s` table): `CONTROLLER`, `AGENT`,
    /// `NODE`, and `NONE`.
    public var logName: String {
        String(rawValue.split(separator: ":").last ?? Substring(rawValue))
    }
}
