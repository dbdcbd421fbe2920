extension Broker {
    /// Zeek's `Broker::BackendType`: where a data store keeps its data.
    public enum BackendType: String, BrokerEnum, Sendable, Hashable {
        /// `Broker::MEMORY`: in memory only.
        case memory = "Broker::MEMORY"
        /// `Broker::SQLITE`: an SQLite file.
        case sqlite = "Broker::SQLITE"

        /// `Broker::BackendType`.
        public static let zeekTypeName = "Broker::BackendType"
    }

    /// Zeek's `Broker::SQLiteSynchronous`: SQLite's `synchronous` pragma.
    public enum SQLiteSynchronous: String, BrokerEnum, Sendable, Hashable {
        /// `Broker::SQLITE_SYNCHRONOUS_OFF`.
        case off = "Broker::SQLITE_SYNCHRONOUS_OFF"
        /// `Broker::SQLITE_SYNCHRONOUS_NORMAL`.
        case normal = "Broker::SQLITE_SYNCHRONOUS_NORMAL"
        /// `Broker::SQLITE_SYNCHRONOUS_FULL`.
        case full = "Broker::SQLITE_SYNCHRONOUS_FULL"
        /// `Broker::SQLITE_SYNCHRONOUS_EXTRA`.
        case extra = "Broker::SQLITE_SYNCHRONOUS_EXTRA"

        /// `Broker::SQLiteSynchronous`.
        public static let zeekTypeName = "Broker::SQLiteSynchronous"
    }

    /// Zeek's `Broker::SQLiteJournalMode`: SQLite's `journal_mode` pragma.
    public enum SQLiteJournalMode: String, BrokerEnum, Sendable, Hashable {
        /// `Broker::SQLITE_JOURNAL_MODE_DELETE`.
        case delete = "Broker::SQLITE_JOURNAL_MODE_DELETE"
        /// `Broker::SQLITE_JOURNAL_MODE_WAL`.
        case wal = "Broker::SQLITE_JOURNAL_MODE_WAL"

        /// `Broker::SQLiteJournalMode`.
        public static let zeekTypeName = "Broker::SQLiteJournalMode"
    }

    /// Zeek's `Broker::SQLiteFailureMode`: what to do when the database cannot be opened.
    public enum SQLiteFailureMode: String, BrokerEnum, Sendable, Hashable {
        /// `Broker::SQLITE_FAILURE_MODE_FAIL`: fail.
        case fail = "Broker::SQLITE_FAILURE_MODE_FAIL"
        /// `Broker::SQLITE_FAILURE_MODE_DELETE`: delete the file and start over.
        case delete = "Broker::SQLITE_FAILURE_MODE_DELETE"

        /// `Broker::SQLiteFailureMode`.
        public static let zeekTypeName = "Broker::SQLiteFailureMode"
    }
}
