import ClusterKit

/// The Zeek log options of `controller`, `agent` and `node`: `--log-dir DIR`, `--log-format ascii|json` and, where
/// the command writes a management log, `--log-level LEVEL`.
struct LogArguments {
    /// The log directory, or `nil` for no log files.
    var directory: String?
    /// The format, default ASCII.
    var format: ZeekLogFormat
    /// The lowest management log level written, default info.
    var level: Management.Log.Level

    /// Reads the options.
    ///
    /// - Parameters:
    ///   - arguments: The command's arguments.
    ///   - defaultDirectory: The directory without `--log-dir` (the `--state-dir`), or `nil`.
    ///   - takesLevel: Whether the command has `--log-level`.
    /// - Throws: ``UsageError`` for a bad value, or a format or level without a directory.
    init(arguments: Arguments, defaultDirectory: String?, takesLevel: Bool) throws(UsageError) {
        directory = arguments.value("--log-dir") ?? defaultDirectory
        format =
            try arguments.choice("--log-format", ZeekLogFormat.allCases.map(\.rawValue))
            .flatMap(ZeekLogFormat.init(rawValue:)) ?? .ascii
        level =
            takesLevel
            ? try arguments.choice("--log-level", Management.Log.Level.allCases.map { $0.name.lowercased() })
                .flatMap(Management.Log.Level.init(name:)) ?? .info
            : .info
        guard directory == nil else { return }
        if takesLevel, arguments.value("--log-format") != nil || arguments.value("--log-level") != nil {
            throw UsageError("'--log-format' and '--log-level' need '--log-dir' (or '--state-dir')")
        }
        if !takesLevel, arguments.value("--log-format") != nil {
            throw UsageError("'--log-format' needs '--log-dir'")
        }
    }

    /// The log directory, checked by the state directory's rules (created private, or writable by this user only),
    /// whose write failures are reported once on standard error; `nil` without a directory.
    ///
    /// - Parameter context: The command's context.
    /// - Returns: The logs.
    /// - Throws: ``LocalFileError`` when the directory is not safe to use.
    func open(context: CommandContext) throws(LocalFileError) -> LogDirectory? {
        guard let directory else { return nil }
        let checked = try PrivateDirectory(checking: context.resolve(directory))
        let terminal = context.terminal
        return LogDirectory(options: LogDirectory.Options(directory: checked.path, format: format, level: level)) {
            terminal.error("\($0); its lines are dropped")
        }
    }
}
