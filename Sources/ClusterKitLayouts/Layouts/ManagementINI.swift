public import ClusterKitModel

/// A Management framework cluster configuration in `zeek-client`'s INI form, read as `zeek-client` 1.5.0
/// reads it (`ConfigParser(allow_no_value=True)`, `Configuration.from_config_parser`).
///
/// `[instances]` lists the agents (`name` alone: the agent connects to the controller; `name = host:port`:
/// the controller connects to it). Every other section is a node with keys `role` (alias `type`),
/// `instance`, `port`, `metrics_port`, `interface`, `cpu_affinity`, `env` and `scripts`. `zeek-client`
/// stops at the first error; this reader reports every one, each with the text `zeek-client` prints, and
/// turns its tracebacks (a repeated section, a bare `%`, an instance host that is not an address) into
/// ordinary errors.
public struct ManagementINI: Sendable, Hashable {
    /// The file name used in locations.
    public var file: String
    /// The configuration, or `nil` when `zeek-client` would reject the file.
    public var configuration: Management.Configuration?
    /// Where each node's and each instance's definition is, by name.
    public var locations: [String: SourceLocation]
    /// Problems found while reading: `zeek-client`'s errors and warnings.
    public var issues: [ValidationIssue]

    /// The keys `zeek-client` uses in a node section.
    static let nodeKeys: Set<String> = [
        "instance", "role", "scripts", "port", "interface", "cpu_affinity", "env", "metrics_port",
    ]

    /// Reads Management INI text.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - file: The file name for locations.
    ///   - hostName: The local host name, for nodes without `instance` (they get `agent-<hostName>`, as
    ///     `zeek-client` uses `socket.gethostname()`); default `localhost`.
    ///   - configurationID: The id of the configuration; default a fresh one.
    ///   - limits: The bounds on interpolation and on the number of nodes (node sections past
    ///     ``LayoutLimits/maximumNodes`` are an error and left out).
    /// - Returns: The configuration (when valid for `zeek-client`) and every problem.
    public static func parse(
        _ text: String,
        file: String,
        hostName: String = "localhost",
        configurationID: String = Management.Configuration.makeID(),
        limits: LayoutLimits = .standard
    ) -> ManagementINI {
        var document = ConfigParserDocument(parsing: text, file: file, allowsNoValue: true, limits: limits)
        var issues = document.issues
        var locations: [String: SourceLocation] = [:]
        var instances: [Management.Instance] = []
        var nodes: [Management.Node] = []
        var instanceFreeNodes: [String] = []
        var hasErrors = issues.containsErrors
        func location(_ line: Int?) -> SourceLocation { SourceLocation(file: file, line: line) }

        var nodeSections = 0
        let sections = document.sections
        for (sectionIndex, section) in sections.enumerated() {
            if section.name != "instances" {
                nodeSections += 1
                guard nodeSections <= limits.maximumNodes else {
                    issues.append(
                        .error(
                            .tooManyNodes,
                            "more than \(limits.maximumNodes) nodes (LayoutLimits.maximumNodes): node '\(section.name)' "
                                + "and the \(sections.count - sectionIndex - 1) sections after it are left out",
                            at: location(section.line),
                            node: section.name
                        )
                    )
                    hasErrors = true
                    break
                }
            }
            if section.name == "instances" {
                let (items, problems) = document.items(of: section)
                issues += problems
                for item in items {
                    let itemLocation = location(item.line)
                    locations[item.key] = locations[item.key] ?? itemLocation
                    guard let value = item.value, !value.isEmpty else {
                        instances.append(Management.Instance(name: item.key))
                        continue
                    }
                    guard let colon = value.lastIndex(of: ":"), colon != value.startIndex,
                        value.index(after: colon) != value.endIndex
                    else {
                        issues.append(
                            .error(
                                .invalidInstanceSpec,
                                "invalid spec for instance \"\(item.key)\": \"\(value)\" should be <host>:<port>",
                                at: itemLocation,
                                node: item.key
                            )
                        )
                        continue
                    }
                    let host = String(value[..<colon]).trimmingCharacters(in: "[] ")
                    let portText = String(TextLines.strip(value[value.index(after: colon)...]))
                    guard let address = Broker.Address(host) else {
                        issues.append(
                            .error(
                                .invalidInstanceAddress,
                                "invalid spec for instance \"\(item.key)\": '\(host)' does not appear to be an "
                                    + "IPv4 or IPv6 address",
                                at: itemLocation,
                                node: item.key
                            )
                        )
                        continue
                    }
                    guard let number = TextLines.pythonInt(Substring(portText)), (1...65_535).contains(number),
                        let port = UInt16(exactly: number)
                    else {
                        issues.append(
                            .error(
                                .invalidInstanceSpec,
                                "invalid spec for instance \"\(item.key)\": port '\(portText)' is not a port number",
                                at: itemLocation,
                                node: item.key
                            )
                        )
                        continue
                    }
                    instances.append(
                        Management.Instance(name: item.key, host: address, listenPort: .tcp(port))
                    )
                }
                continue
            }
            let name = section.name
            locations[name] = location(section.line)
            if section.entry("instance") == nil && document.defaults.entry("instance") == nil {
                instanceFreeNodes.append(name)
            }
            let before = issues.count
            if let node = readNode(section, document: &document, hostName: hostName, issues: &issues) {
                nodes.append(node)
            }
            if issues[before...].containsErrors { hasErrors = true }
        }
        hasErrors = hasErrors || issues.containsErrors
        if !instanceFreeNodes.isEmpty {
            if instanceFreeNodes.count != nodes.count || nodes.isEmpty {
                issues.append(.error(.mixedInstances, "either all or no nodes must state instances", at: location(nil)))
                hasErrors = true
            } else if let instancesSection = document.section(named: "instances") {
                issues.append(
                    .error(
                        .instancesWithoutNodeInstances,
                        "omit instances section when skipping instances in node definitions",
                        at: location(instancesSection.line)
                    )
                )
                hasErrors = true
            }
        }
        if document.section(named: "instances") == nil {
            let names = Set(nodes.map(\.instance)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            instances = names.map { Management.Instance(name: $0) }
        }
        let configuration =
            hasErrors
            ? nil : Management.Configuration(id: configurationID, instances: instances, nodes: nodes)
        return ManagementINI(file: file, configuration: configuration, locations: locations, issues: issues)
    }

    /// Reads one node section in `Node.from_config_parser`'s order.
    private static func readNode(
        _ section: ConfigParserDocument.Section,
        document: inout ConfigParserDocument,
        hostName: String,
        issues: inout [ValidationIssue]
    ) -> Management.Node? {
        let name = section.name
        let file = document.file
        var failed = false
        func fail(_ code: ValidationIssue.Code, _ message: String, line: Int?, key: String? = nil) {
            issues.append(
                .error(
                    code,
                    "invalid node \"\(name)\" configuration: \(message)",
                    at: SourceLocation(file: file, line: line ?? section.line),
                    node: name,
                    key: key
                )
            )
            failed = true
        }
        func get(_ key: String) -> (value: String?, line: Int?) {
            let (value, line, problem) = document.value(key, in: section)
            if let problem {
                issues.append(
                    .error(
                        problem.code,
                        problem.message(key: key, section: name),
                        at: SourceLocation(file: file, line: line),
                        node: name,
                        key: key
                    )
                )
                failed = true
            }
            return (value, line)
        }
        /// An integer key; with `clamped`, a number beyond `Int` becomes `Int.max` or `Int.min` (for ports, which
        /// are then out of range) instead of failing to convert, as Python's unbounded `int` would not fail.
        /// The value's text is kept for messages: a clamped number is shown as written.
        func integer(_ key: String, clamped: Bool = false) -> (value: Int?, line: Int?, text: String) {
            let (text, line) = get(key)
            guard let text else { return (nil, line, "None") }
            let parsed = clamped ? TextLines.pythonIntClamped(Substring(text)) : TextLines.pythonInt(Substring(text))
            guard let number = parsed else {
                fail(.notAnInteger, "cannot convert \"\(name).\(key)\" value \"\(text)\" to int", line: line, key: key)
                return (nil, line, text)
            }
            let shown =
                TextLines.pythonInt(Substring(text)).map(String.init) ?? String(TextLines.strip(Substring(text)))
            return (number, line, shown)
        }

        var (instance, _) = get("instance")
        var (role, roleLine) = get("role")
        if role == nil { (role, roleLine) = get("type") }
        let (state, stateLine) = get("state")
        if let state, !state.isEmpty {
            issues.append(
                .warning(
                    .ignoredState,
                    "ignoring node \"\(name)\" state \"\(state)\" in configuration",
                    at: SourceLocation(file: file, line: stateLine),
                    node: name,
                    key: "state"
                )
            )
        }
        let (port, portLine, portText) = integer("port", clamped: true)
        let (interface, _) = get("interface")
        let (cpuAffinity, _, _) = integer("cpu_affinity")
        let (metricsPort, metricsLine, _) = integer("metrics_port", clamped: true)
        if instance == nil || instance == "" { instance = "agent-" + hostName }

        var clusterRole: Supervisor.ClusterRole?
        if let role, !role.isEmpty {
            let bare = role.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? role
            let last = bare.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? bare
            clusterRole = Supervisor.ClusterRole(rawValue: "Supervisor::" + last.uppercased())
            if clusterRole == nil { fail(.invalidRole, "role \"\(role)\" is invalid", line: roleLine, key: "role") }
        } else {
            fail(.missingRole, "node requires a role", line: roleLine, key: "role")
        }
        if let port, !(1...65535).contains(port) {
            fail(.portOutOfRange, "port \(portText) outside valid range", line: portLine, key: "port")
        }
        if let metricsPort, !(1...65535).contains(metricsPort) {
            // zeek-client prints the value of `port` here, not of `metrics_port`.
            fail(
                .metricsPortOutOfRange,
                "metrics port \(port == nil ? "None" : portText) outside valid range",
                line: metricsLine,
                key: "metrics_port"
            )
        }
        var scripts: [String]?
        let (scriptsText, scriptsLine) = get("scripts")
        if let scriptsText, !scriptsText.isEmpty {
            switch ShellWords.split(scriptsText) {
            case .success(let words): scripts = words.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            case .failure(let problem): fail(.invalidScripts, problem.message, line: scriptsLine, key: "scripts")
            }
        }
        var env: [String: String] = [:]
        let (envText, envLine) = get("env")
        if let envText, !envText.isEmpty {
            var valid = true
            if case .success(let words) = ShellWords.split(envText) {
                for word in words {
                    guard let equals = word.firstIndex(of: "=") else {
                        valid = false
                        break
                    }
                    env[String(word[..<equals])] = String(word[word.index(after: equals)...])
                }
            } else {
                valid = false
            }
            if !valid { fail(.invalidEnv, "env value \"\(envText)\" is invalid", line: envLine, key: "env") }
        }
        var keys = Set(document.defaults.entries.map(\.key))
        keys.formUnion(section.entries.map(\.key))
        let unexpected = keys.subtracting(nodeKeys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if !unexpected.isEmpty && !failed {
            issues.append(
                .warning(
                    .unexpectedKeys,
                    "ignoring unexpected keys: \(unexpected.joined(separator: ", "))",
                    at: SourceLocation(file: file, line: section.line),
                    node: name
                )
            )
        }
        guard !failed, let clusterRole, let instance else { return nil }
        return Management.Node(
            name: name,
            instance: instance,
            role: clusterRole,
            p: port.flatMap { UInt16(exactly: $0) }.map { .tcp($0) },
            scripts: scripts,
            interface: interface,
            cpuAffinity: cpuAffinity,
            env: env,
            metricsPort: metricsPort.flatMap { UInt16(exactly: $0) }.map { .tcp($0) }
        )
    }
}

extension String {
    /// The string without leading and trailing characters from `set`, as Python's `str.strip(chars)`.
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }) else { return "" }
        let last = lastIndex(where: { !characters.contains($0) }) ?? first
        return String(self[first...last])
    }
}
