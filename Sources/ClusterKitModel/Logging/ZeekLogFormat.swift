/// The two ways Zeek's ASCII log writer writes a log file.
public enum ZeekLogFormat: String, Sendable, Hashable, CaseIterable {
    /// Zeek's default: tab-separated values under `#separator`, `#set_separator`, `#empty_field`,
    /// `#unset_field`, `#path`, `#open`, `#fields` and `#types` header lines, closed by a `#close` line; what
    /// `zeek-cut` reads.
    case ascii
    /// `LogAscii::use_json=T`: one JSON object per line, no header, times as seconds since the epoch
    /// (`JSON::TS_EPOCH`, Zeek's default).
    case json
}
