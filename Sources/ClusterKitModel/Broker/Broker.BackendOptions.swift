extension Broker {
    /// Zeek's `Broker::SQLiteOptions`: settings of an SQLite-backed store.
    public struct SQLiteOptions: BrokerRecord, Sendable, Hashable {
        /// The database file; `""` lets Zeek pick `<name>.sqlite` in the working directory.
        public var path: String
        /// The `synchronous` pragma, unset by default.
        public var synchronous: SQLiteSynchronous?
        /// The `journal_mode` pragma, unset by default.
        public var journalMode: SQLiteJournalMode?
        /// What to do when opening fails; default ``SQLiteFailureMode/fail``.
        public var failureMode: SQLiteFailureMode
        /// A Boolean value indicating whether to run an integrity check on open; default `false`.
        public var integrityCheck: Bool

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - path: The database file.
        ///   - synchronous: The `synchronous` pragma.
        ///   - journalMode: The `journal_mode` pragma.
        ///   - failureMode: What to do when opening fails.
        ///   - integrityCheck: Whether to check integrity on open.
        public init(
            path: String = "",
            synchronous: SQLiteSynchronous? = nil,
            journalMode: SQLiteJournalMode? = nil,
            failureMode: SQLiteFailureMode = .fail,
            integrityCheck: Bool = false
        ) {
            self.path = path
            self.synchronous = synchronous
            self.journalMode = journalMode
            self.failureMode = failureMode
            self.integrityCheck = integrityCheck
        }

        /// `Broker::SQLiteOptions`.
        public static let zeekTypeName = "Broker::SQLiteOptions"
        /// The fields in declaration order.
        public static let fieldNames = ["path", "synchronous", "journal_mode", "failure_mode", "integrity_check"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout RecordReader) throws {
            self.init(
                path: try record.withDefault(""),
                synchronous: try record.optional(),
                journalMode: try record.optional(),
                failureMode: try record.withDefault(.fail),
                integrityCheck: try record.withDefault(false)
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Value] {
            [
                path.brokerValue, synchronous?.brokerValue ?? .none, journalMode?.brokerValue ?? .none,
                failureMode.brokerValue, integrityCheck.brokerValue,
            ]
        }
    }

    /// Zeek's `Broker::BackendOptions`: per-backend store settings.
    public struct BackendOptions: BrokerRecord, Sendable, Hashable {
        /// The SQLite settings.
        public var sqlite: SQLiteOptions

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameter sqlite: The SQLite settings.
        public init(sqlite: SQLiteOptions = SQLiteOptions()) {
            self.sqlite = sqlite
        }

        /// `Broker::BackendOptions`.
        public static let zeekTypeName = "Broker::BackendOptions"
        /// The fields in declaration order.
        public static let fieldNames = ["sqlite"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout RecordReader) throws {
            self.init(sqlite: try record.withDefault(SQLiteOptions()))
        }

        /// The field values in declaration order.
        public var fieldValues: [Value] { [sqlite.brokerValue] }
    }
}
