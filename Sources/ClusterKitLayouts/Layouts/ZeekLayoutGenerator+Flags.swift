import ClusterKitModel

extension ZeekLayoutGenerator {
    /// The generator's flag form, `zeek-cluster-layout-generator [-L n] [-P n] [-W spec] [-M 0|1] [-a addr]
    /// [-p port] [-m port] [-b addr] [-x prefix]`: one host, with the flag form's own defaults (a manager,
    /// one logger, one proxy, one worker, address `127.0.0.1`, ports 27760 and 9991, no prefix).
    public struct Flags: Sendable, Hashable {
        /// `-L`: the number of loggers; default 1.
        public var loggers: String?
        /// `-P`: the number of proxies; default 1.
        public var proxies: String?
        /// `-W`: a worker count, or `NAME:COUNT` entries separated by spaces or commas; default `1`.
        public var workers: String?
        /// `-M`: `1` for a manager, `0` for none; default 1.
        public var manager: String?
        /// `-a`: every node's `$ip`, written as given (never checked); default `127.0.0.1`.
        public var address: String?
        /// `-p`: the first cluster port; default 27760.
        public var port: String?
        /// `-m`: the first metrics port (0: every node gets 0); default 9991.
        public var metricsPort: String?
        /// `-b`: the metrics address; accepted and ignored, as by Zeek's generator.
        public var metricsAddress: String?
        /// `-x`: the node name prefix, never checked; default none.
        public var prefix: String?

        /// Creates flags; each `nil` takes the generator's default.
        ///
        /// - Parameters:
        ///   - loggers: `-L`.
        ///   - proxies: `-P`.
        ///   - workers: `-W`.
        ///   - manager: `-M`.
        ///   - address: `-a`.
        ///   - port: `-p`.
        ///   - metricsPort: `-m`.
        ///   - metricsAddress: `-b`.
        ///   - prefix: `-x`.
        public init(
            loggers: String? = nil,
            proxies: String? = nil,
            workers: String? = nil,
            manager: String? = nil,
            address: String? = nil,
            port: String? = nil,
            metricsPort: String? = nil,
            metricsAddress: String? = nil,
            prefix: String? = nil
        ) {
            self.loggers = loggers
            self.proxies = proxies
            self.workers = workers
            self.manager = manager
            self.address = address
            self.port = port
            self.metricsPort = metricsPort
            self.metricsAddress = metricsAddress
            self.prefix = prefix
        }

        /// Values given before the last one of a repeated flag, as (flag letter, value), in order.
        ///
        /// The last value of a flag wins, but the generator checks the numbers of `-L`, `-P`, `-M`, `-p` and
        /// `-m` as they come, so a bad earlier one is still an error (`-W` is read only at the end).
        public var earlierValues: [(flag: Character, value: String)] = []

        /// Creates flags from the generator's arguments in order: the last value of a repeated flag wins,
        /// the earlier ones are kept in ``earlierValues`` to be checked.
        ///
        /// - Parameter occurrences: Each flag letter (`L`, `P`, `W`, `M`, `a`, `p`, `m`, `b`, `x`) with its
        ///   value, in command-line order; other letters are ignored.
        public init(occurrences: [(flag: Character, value: String)]) {
            self.init()
            var last: [Character: Int] = [:]
            for (index, occurrence) in occurrences.enumerated() { last[occurrence.flag] = index }
            for (index, occurrence) in occurrences.enumerated() {
                guard last[occurrence.flag] == index else {
                    earlierValues.append(occurrence)
                    continue
                }
                let value = occurrence.value
                switch occurrence.flag {
                case "L": loggers = value
                case "P": proxies = value
                case "W": workers = value
                case "M": manager = value
                case "a": address = value
                case "p": port = value
                case "m": metricsPort = value
                case "b": metricsAddress = value
                case "x": prefix = value
                default: break
                }
            }
        }

        /// Compares flags, their earlier values included.
        ///
        /// - Parameters:
        ///   - lhs: Flags.
        ///   - rhs: Other flags.
        /// - Returns: Whether they are equal.
        public static func == (lhs: Flags, rhs: Flags) -> Bool {
            lhs.values == rhs.values
                && lhs.earlierValues.map { "\($0.flag)\($0.value)" }
                    == rhs.earlierValues.map { "\($0.flag)\($0.value)" }
        }

        /// Hashes the flags.
        ///
        /// - Parameter hasher: The hasher.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(values)
            hasher.combine(earlierValues.count)
        }

        private var values: [String?] {
            [loggers, proxies, workers, manager, address, port, metricsPort, metricsAddress, prefix]
        }

        /// A rejected flag value: the flag letter and the generator's message.
        public struct Problem: Sendable, Hashable, CustomStringConvertible {
            /// The generator's flag letter (`L`, `P`, `W`, `M`, `p`, `m`).
            public var flag: Character
            /// The generator's message, such as `invalid numeric value for L: two`.
            public var message: String

            /// The message.
            public var description: String { message }
        }

        /// The host the flags describe, or every rejected value (Zeek's generator stops at the first).
        ///
        /// - Returns: The host, or the problems in flag order `-L -P -W -M -p -m`.
        public func host() -> Result<(host: Host, hasManager: Bool), ProblemList> {
            var problems: [Problem] = []
            for earlier in earlierValues {
                var flags = Flags()
                switch earlier.flag {
                case "L": flags.loggers = earlier.value
                case "P": flags.proxies = earlier.value
                case "M": flags.manager = earlier.value
                case "p": flags.port = earlier.value
                case "m": flags.metricsPort = earlier.value
                default: continue
                }
                if case .failure(let list) = flags.host() { problems += list.problems }
            }
            func count(_ text: String?, _ flag: Character, default value: Int) -> Int {
                guard let text else { return value }
                guard let number = ZeekConfSyntax.count(text) else {
                    problems.append(Problem(flag: flag, message: "invalid numeric value for \(flag): \(text)"))
                    return value
                }
                return number
            }
            let loggers = count(loggers, "L", default: 1)
            let proxies = count(proxies, "P", default: 1)
            let groups = workerGroups(&problems)
            let manager = count(manager, "M", default: 1)
            if manager > 1 { problems.append(Problem(flag: "M", message: "flag -M expects 0 or 1")) }
            let port = count(port, "p", default: 27760)
            let metricsPort = count(metricsPort, "m", default: 9991)
            guard problems.isEmpty else { return .failure(ProblemList(problems: problems)) }
            let host = Host(
                name: nil,
                address: address ?? "127.0.0.1",
                hasManager: manager == 1,
                loggers: loggers,
                proxies: proxies,
                workers: groups,
                prefix: prefix ?? "",
                port: port,
                metricsPort: metricsPort
            )
            return .success((host, manager == 1))
        }

        /// The worker groups of `-W`.
        private func workerGroups(_ problems: inout [Problem]) -> [WorkerGroup] {
            guard let spec = workers else { return [WorkerGroup(interface: "", count: 1)] }
            if spec.utf8.allSatisfy(ZeekConfSyntax.isDigit) {
                guard let number = ZeekConfSyntax.count(spec) else {
                    problems.append(Problem(flag: "W", message: "invalid numeric value for W: \(spec)"))
                    return []
                }
                return [WorkerGroup(interface: "", count: number)]
            }
            let invalid = Problem(flag: "W", message: "-W invalid: '\(spec)'")
            let spaced = String(spec.map { $0 == "," ? " " : $0 })
            var groups: [WorkerGroup] = []
            for entry in spaced.split(separator: " ", omittingEmptySubsequences: false) {
                let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.allSatisfy(ZeekConfSyntax.isNameByte),
                    !parts[1].isEmpty, parts[1].utf8.allSatisfy(ZeekConfSyntax.isDigit)
                else {
                    problems.append(invalid)
                    return []
                }
                guard let number = ZeekConfSyntax.count(String(parts[1])) else {
                    problems.append(Problem(flag: "W", message: "invalid numeric value for W: \(parts[1])"))
                    return []
                }
                groups.append(WorkerGroup(interface: String(parts[0]), count: number))
            }
            return groups
        }

        /// The layout the generator writes for the flags, or every rejected value.
        ///
        /// - Parameter limits: The most nodes made (``LayoutLimits/maximumNodes``); past it the layout is
        ///   refused.
        /// - Returns: The text, or the problems.
        public func generatedText(limits: LayoutLimits = .standard) -> Result<String, ProblemList> {
            switch host() {
            case .failure(let problems): return .failure(problems)
            case .success(let (host, hasManager)):
                let nodes = ZeekLayoutGenerator.nodes(of: [host], limit: limits.maximumNodes + 1)
                guard nodes.count <= limits.maximumNodes else {
                    let message = "the flags make more than \(limits.maximumNodes) nodes (LayoutLimits.maximumNodes)"
                    return .failure(ProblemList(problems: [Problem(flag: "W", message: message)]))
                }
                return .success(ZeekLayoutGenerator.text(hosts: [host], nodes: nodes, managerField: hasManager))
            }
        }
    }

    /// The rejected values of a flag set.
    public struct ProblemList: Error, Sendable, Hashable {
        /// The problems in flag order.
        public var problems: [Flags.Problem]
    }
}
