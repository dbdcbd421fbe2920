public import ClusterKitModel

/// One host of a Zeek 9 deployment: what Zeek's layout generator takes from one zeek.conf, with every
/// error it reports and the line each is about.
///
/// A section-less file holds global keys and one unnamed interface together; a sectioned file has
/// `[zeek]` for global keys and `[interface NAME]` sections. Errors are the generator's texts; where the
/// generator stops at the first bad interface section this reports every bad section, and where it
/// crashes (a continuation line on a single-valued key) this reports `multiple values for 'KEY' given`.
public struct ZeekConfHost: Sendable, Hashable {
    /// One capture interface and its workers.
    public struct Interface: Sendable, Hashable {
        /// The interface name of `[interface NAME]`; empty for a section-less file.
        public var name: String
        /// The `interface` value (the capture source, `${...}` templates left as written).
        public var source: String
        /// The number of workers.
        public var workers: Int
        /// The `workers_cpu_list` value, when given.
        public var cpuList: String?
        /// The other options of the section (`worker_env`, `worker_args`, `worker_nice`, ...), keys
        /// lower-cased.
        public var options: [ZeekConf.Option]
        /// The line of the section header, or of the `workers` key in a section-less file.
        public var line: Int
    }

    /// The file name used in locations.
    public var file: String
    /// The host name (`HOST` of `HOST.zeek.conf`), or `nil` for a file not named that way.
    public var hostName: String?
    /// Whether `manager = 1`.
    public var hasManager: Bool
    /// The number of loggers; default 0.
    public var loggers: Int
    /// The number of proxies; default 0.
    public var proxies: Int
    /// The first cluster port (`port` / `cluster_port`, read as C `atoi`); default 27760.
    public var port: Int
    /// The first metrics port (`metrics_port`, `atoi`; 0 disables); default 9991.
    public var metricsPort: Int
    /// The address as written (`address` / `cluster_address`); `nil` when not given.
    public var address: String?
    /// The node name prefix: `cluster_node_prefix`, else the host name, else empty.
    public var prefix: String
    /// The interfaces in file order.
    public var interfaces: [Interface]
    /// The global options other than those above (env, args, nice, cpu sets, user, ...), keys lower-cased.
    public var globalOptions: [ZeekConf.Option]
    /// The line of each interpreted global key (`manager`, `loggers`, `proxies`, `port`, ...).
    public var keyLines: [String: Int]
    /// Every issue: the line errors, else the generator's checks; the deprecation warning of
    /// `workers_numa_policy` too.
    public var issues: [ValidationIssue]

    /// Interprets a read zeek.conf.
    ///
    /// - Parameters:
    ///   - conf: The file as read.
    ///   - hostName: The host name when the file is `HOST.zeek.conf`, else `nil`.
    /// - Returns: The host and every issue.
    public static func read(_ conf: ZeekConf, hostName: String?) -> ZeekConfHost {
        var host = ZeekConfHost(
            file: conf.file,
            hostName: hostName,
            hasManager: false,
            loggers: 0,
            proxies: 0,
            port: 27760,
            metricsPort: 9991,
            address: nil,
            prefix: "",
            interfaces: [],
            globalOptions: [],
            keyLines: [:],
            issues: conf.issues
        )
        var prefix: String?
        guard conf.issues.isEmpty else { return host }
        var checker = Checker(file: conf.file)
        if conf.sections.count == 1, let only = conf.sections.first, only.name == nil {
            let (interface, reported) = checker.interface(only, sectioned: false)
            if let interface { host.interfaces.append(interface) }
            checker.globals(only.options, inZeekSection: false, alreadyReported: reported, into: &host, prefix: &prefix)
        } else if let unnamed = conf.sections.first(where: { $0.name == nil }) {
            let lines = unnamed.options.prefix(1).map(\.line) + conf.sections.compactMap(\.line).prefix(1)
            checker.issues.append(
                .error(
                    .syntaxError,
                    "options in unnamed section mixed with options in sections",
                    at: SourceLocation(file: conf.file, line: lines.first)
                )
            )
        } else {
            for section in conf.sections where section.name?.hasPrefix("interface") == true {
                let (interface, _) = checker.interface(section, sectioned: true)
                if let interface { host.interfaces.append(interface) }
            }
            for section in conf.sections where section.name == "zeek" {
                checker.globals(
                    section.options,
                    inZeekSection: true,
                    alreadyReported: nil,
                    into: &host,
                    prefix: &prefix
                )
            }
        }
        host.issues += checker.issues
        if let prefix {
            host.prefix = prefix
        } else if let hostName {
            host.prefix = hostName
        }
        if hostName == nil && host.address == nil { host.address = "127.0.0.1" }
        return host
    }
}

// MARK: - Checks

extension ZeekConfHost {
    private struct Checker {
        let file: String
        var issues: [ValidationIssue] = []

        init(file: String) { self.file = file }

        func at(_ line: Int?) -> SourceLocation { SourceLocation(file: file, line: line) }

        /// Checks an interface section (or a section-less file's interface part).
        ///
        /// The first problem ends the check. Returns the interface when there was no problem, and the key
        /// reported as `multiple values`.
        mutating func interface(
            _ section: ZeekConf.Section,
            sectioned: Bool
        ) -> (ZeekConfHost.Interface?, String?) {
            let sectionName = section.name ?? ""
            let suffix = sectioned ? " in section '\(sectionName)'" : ""
            var name = ""
            if sectioned {
                guard let parsed = Self.interfaceName(sectionName) else {
                    issues.append(
                        .error(
                            .invalidValue,
                            "invalid interface name in '\(sectionName)' (must match /interface [-_a-z0-9]+/)",
                            at: at(section.line)
                        )
                    )
                    return (nil, nil)
                }
                name = parsed
                guard !section.options.isEmpty else {
                    issues.append(.error(.missingField, "empty section", at: at(section.line)))
                    return (nil, nil)
                }
            }
            var source: ZeekConf.Option?
            var workers: ZeekConf.Option?
            var workerCount = 0
            var cpuList: String?
            var others: [ZeekConf.Option] = []
            for option in section.options {
                let key = option.normalizedKey
                let location = at(option.line)
                if !key.hasSuffix("env") && !key.hasSuffix("args") && option.values.count > 1 {
                    issues.append(.error(.invalidValue, "multiple values for '\(key)' given", at: location, key: key))
                    return (nil, key)
                }
                let value = option.value
                var problem: String?
                switch key {
                case "interface":
                    source = option
                case "workers":
                    workers = option
                    if let count = ZeekConfSyntax.count(value) {
                        workerCount = count
                    } else {
                        problem = "invalid workers value: '\(value)'"
                    }
                case "worker_args":
                    others.append(option)
                case "worker_env":
                    if let bad = Self.badEnvValue(option) {
                        issues.append(
                            .error(
                                .invalidEnv,
                                "error in worker_env: invalid env value '\(bad.text)'",
                                at: at(bad.line),
                                key: key
                            )
                        )
                        return (nil, nil)
                    }
                    others.append(option)
                case "workers_cpu_list":
                    if ZeekConfSyntax.isCPUList(value) {
                        cpuList = value
                    } else {
                        problem = "invalid workers_cpu_list value '\(value)'"
                    }
                case "worker_numa_policy", "workers_numa_policy":
                    if key == "workers_numa_policy" {
                        issues.append(
                            .warning(
                                .unusedKey,
                                "Remove in v9.1: workers_numa_policy is deprecated, replace with worker_numa_policy",
                                at: location,
                                key: key
                            )
                        )
                    }
                    if value == "local" || value == "default" {
                        others.append(option)
                    } else {
                        problem = "invalid '\(key)' value"
                    }
                case "worker_nice":
                    if let nice = ZeekConfSyntax.integer(value), (-20...19).contains(nice) {
                        others.append(option)
                    } else {
                        problem = "invalid worker_nice value '\(value)'"
                    }
                case "worker_memory_max":
                    if ZeekConfSyntax.isMemorySize(value) {
                        others.append(option)
                    } else {
                        problem = "invalid worker_memory_max '\(value)'"
                    }
                default:
                    if sectioned { problem = "invalid option '\(key)' in section '\(sectionName)'" }
                }
                if let problem {
                    issues.append(.error(.invalidValue, problem, at: location, key: key))
                    return (nil, nil)
                }
            }
            let sourceText = source?.value ?? ""
            if let workers, source == nil {
                issues.append(
                    .error(
                        .missingField,
                        "found workers but no interface option" + suffix,
                        at: at(sectioned ? section.line : workers.line),
                        key: "interface"
                    )
                )
                return (nil, nil)
            }
            if workers == nil, !sourceText.isEmpty {
                issues.append(
                    .error(
                        .missingField,
                        "found interface but no worker option" + suffix,
                        at: at(sectioned ? section.line : source?.line),
                        key: "workers"
                    )
                )
                return (nil, nil)
            }
            if sectioned && sourceText.isEmpty {
                issues.append(
                    .error(
                        .missingField,
                        "empty interface option not allowed" + suffix,
                        at: at(section.line),
                        key: "interface"
                    )
                )
                return (nil, nil)
            }
            let line = sectioned ? section.line : workers?.line
            let interface = ZeekConfHost.Interface(
                name: name,
                source: sourceText,
                workers: workerCount,
                cpuList: cpuList,
                options: others,
                line: line ?? 1
            )
            return (interface, nil)
        }

        /// The `NAME` of `... interface NAME` running to the end of a section name, or `nil`.
        static func interfaceName(_ section: String) -> String? {
            let bytes = Array(section.utf8)
            let marker = Array("interface ".utf8)
            guard bytes.count > marker.count else { return nil }
            var start = 0
            while start + marker.count < bytes.count {
                if Array(bytes[start..<start + marker.count]) == marker {
                    let rest = bytes[(start + marker.count)...]
                    if rest.allSatisfy(ZeekConfSyntax.isNameByte) { return String(decoding: rest, as: UTF8.self) }
                }
                start += 1
            }
            return nil
        }

        /// The first non-empty value without `=`.
        static func badEnvValue(_ option: ZeekConf.Option) -> ZeekConf.Value? {
            option.values.first { !$0.text.isEmpty && !$0.text.utf8.contains(UInt8(ascii: "=")) }
        }

        /// Checks the global keys in file order, every bad one reported, and stores their values.
        mutating func globals(
            _ options: [ZeekConf.Option],
            inZeekSection: Bool,
            alreadyReported: String?,
            into host: inout ZeekConfHost,
            prefix: inout String?
        ) {
            for option in options {
                let key = option.normalizedKey
                let value = option.value
                let location = at(option.line)
                func fail(_ message: String, _ code: ValidationIssue.Code = .invalidValue) {
                    issues.append(.error(code, message, at: location, key: key))
                }
                let kind = Self.globalKind(key, value: value)
                if kind == .unknown {
                    if inZeekSection { fail("invalid key '\(key)' in section 'zeek'", .unknownKey) }
                    continue
                }
                if kind != .multiValued && option.values.count > 1 {
                    // Zeek's generator aborts here (an uncaught exception); ClusterKit reports it.
                    if key != alreadyReported { fail("multiple values for '\(key)' given") }
                    continue
                }
                host.keyLines[Self.aliases[key] ?? key] = option.line
                switch key {
                case "manager":
                    if let number = ZeekConfSyntax.integer(value), number == 0 || number == 1 {
                        host.hasManager = number == 1
                    } else {
                        fail("invalid manager value: '\(value)'")
                    }
                case "loggers", "proxies":
                    if let number = ZeekConfSyntax.count(value) {
                        if key == "loggers" { host.loggers = number } else { host.proxies = number }
                    } else {
                        fail("invalid \(key) value: '\(value)'")
                    }
                case "port", "cluster_port": host.port = ZeekConfSyntax.atoi(value)
                case "metrics_port": host.metricsPort = ZeekConfSyntax.atoi(value)
                case "address", "cluster_address":
                    if ZeekConfSyntax.isAddress(value) {
                        host.address = value
                    } else {
                        fail("invalid address '\(value)'")
                    }
                case "cluster_node_prefix":
                    if value.isEmpty || ZeekConfSyntax.isPrefix(value) {
                        prefix = value
                    } else {
                        fail(
                            "invalid cluster_node_prefix '\(value)' (must be empty or match /[a-z0-9][-_a-z0-9]+/)"
                        )
                    }
                case "env", "manager_env", "logger_env", "proxy_env", "archiver_env":
                    if let bad = Self.badEnvValue(option) {
                        let named = key == "archiver_env" ? "proxy_env" : key
                        issues.append(
                            .error(
                                .invalidEnv,
                                "error in \(named): invalid env value '\(bad.text)'",
                                at: at(bad.line),
                                key: key
                            )
                        )
                    } else {
                        host.globalOptions.append(option)
                    }
                default:
                    if key.hasSuffix("_nice") {
                        guard let nice = ZeekConfSyntax.integer(value), (-20...19).contains(nice) else {
                            fail("invalid \(key) value '\(value)'")
                            continue
                        }
                    } else if key.hasSuffix("_memory_max") {
                        guard ZeekConfSyntax.isMemorySize(value) else {
                            fail("invalid \(key) '\(value)'")
                            continue
                        }
                    } else if key.hasSuffix("_cpu_set") {
                        guard ZeekConfSyntax.isCPUList(value) else {
                            fail("invalid \(key) '\(value)'")
                            continue
                        }
                    }
                    host.globalOptions.append(option)
                }
            }
        }

        enum GlobalKind {
            case single
            case multiValued
            case unknown
        }

        static let singleKeys: Set<String> = [
            "manager", "loggers", "proxies", "port", "cluster_port", "metrics_port", "address", "cluster_address",
            "cluster_node_prefix", "user", "group", "archiver", "base_dir", "path", "ext_path", "ext_zeek_path",
            "cluster_layout", "restart_interval_sec",
            "manager_cpu_set", "logger_cpu_set", "proxy_cpu_set", "archiver_cpu_set",
        ]
        static let multiKeys: Set<String> = [
            "env", "manager_env", "logger_env", "proxy_env", "archiver_env", "args", "manager_args", "logger_args",
            "proxy_args", "archiver_args", "cluster_backend_args",
        ]
        static let roles = ["manager", "logger", "proxy", "archiver"]
        /// The keys that mean the same as another.
        static let aliases = ["cluster_port": "port", "cluster_address": "address"]

        /// How a global key is taken; an empty `*_nice` or `*_memory_max` is not taken at all.
        static func globalKind(_ key: String, value: String) -> GlobalKind {
            if singleKeys.contains(key) { return .single }
            if multiKeys.contains(key) { return .multiValued }
            for role in roles where key == role + "_nice" || key == role + "_memory_max" {
                return value.isEmpty ? .unknown : .single
            }
            return .unknown
        }
    }
}
