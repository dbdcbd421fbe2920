public import ClusterKitModel

/// The zeekctl.cfg settings that shape the generated layout and node list, resolved for one Zeek version.
///
/// Defaults are those of the ZeekControl bundled with ``zeekVersion``: `ZeekPort` 47760 before Zeek 5.2
/// and 27760 from it; `MetricsPort` 9991 from Zeek 7.0; `ClusterBackend` Broker and `UseWebSocket` off in
/// Zeek 8.0, ZeroMQ and on from Zeek 8.1; `WebSocketHost` `127.0.0.1`, `WebSocketPort` 27759;
/// `TimeMachinePort` `47757/tcp`.
///
/// Values read from zeekctl.cfg are range-checked (``resolved(from:version:)``): ports 0–65535,
/// `PFRINGClusterID` 0–2,147,483,647. Values set directly are not; the port counters that start from them
/// never overflow, and a port past 65535 is reported by ``LayoutValidator`` for the node that gets it.
public struct ZeekctlSettings: Sendable, Hashable {
    /// The cluster backend (`ClusterBackend`).
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// Broker (`ClusterBackend = Broker`).
        case broker = "Broker"
        /// ZeroMQ (`ClusterBackend = ZeroMQ`): the manager's XPUB/XSUB proxy takes the first two ports.
        case zeroMQ = "ZeroMQ"
    }

    /// The Zeek version whose ZeekControl is reproduced.
    public var zeekVersion: ZeekVersion
    /// `ZeekPort`: the first port handed out.
    public var zeekPort: Int
    /// `ClusterBackend`.
    public var clusterBackend: Backend
    /// `MetricsPort`: the first metrics port; 0 leaves metrics ports out (Zeek 7.0+).
    public var metricsPort: Int
    /// `UseWebSocket`: add the WebSocket listener block (Zeek 8.0+).
    public var useWebSocket: Bool
    /// `WebSocketHost`, copied verbatim (IPv6 must be bracketed already).
    public var webSocketHost: String
    /// `WebSocketPort`.
    public var webSocketPort: Int
    /// `TimeMachineHost`; empty means no time machine.
    public var timeMachineHost: String
    /// `TimeMachinePort`, copied verbatim.
    public var timeMachinePort: String
    /// `env_vars`: environment for every node; node.cfg values win.
    public var envVars: String
    /// `lb_custom.InterfacePrefix`, put before the interface of `lb_method=custom` workers.
    public var customInterfacePrefix: String
    /// `lb_custom.InterfaceSuffix`, put after it.
    public var customInterfaceSuffix: String
    /// `PFRINGClusterID`; 0 turns the PF_RING environment off.
    ///
    /// Read from zeekctl.cfg: 0 to ``maximumPFRingClusterID``.
    public var pfRingClusterID: Int
    /// `PFRINGClusterType`.
    public var pfRingClusterType: String

    /// Creates the defaults of a Zeek version's ZeekControl.
    ///
    /// - Parameter zeekVersion: The version; default ``ZeekVersion/current``.
    public init(zeekVersion: ZeekVersion = .current) {
        self.zeekVersion = zeekVersion
        zeekPort = zeekVersion < ZeekVersion(5, 2) ? 47760 : 27760
        let modern = zeekVersion >= ZeekVersion(8, 1)
        clusterBackend = modern ? .zeroMQ : .broker
        metricsPort = zeekVersion >= ZeekVersion(7, 0) ? 9991 : 0
        useWebSocket = modern
        webSocketHost = "127.0.0.1"
        webSocketPort = 27759
        timeMachineHost = ""
        timeMachinePort = "47757/tcp"
        envVars = ""
        customInterfacePrefix = ""
        customInterfaceSuffix = ""
        pfRingClusterID = 21
        pfRingClusterType = "4-tuple"
    }

    /// The defaults of the current ZeekControl.
    public static let standard = ZeekctlSettings()

    /// The settings of a version with zeekctl.cfg options applied on top of its defaults.
    ///
    /// Option names are not case-sensitive. Options this reproduction does not use are accepted and
    /// ignored (most zeekctl.cfg options, and plugin options such as
    /// `cluster_backend_zeromq.use_curve_encryption`, do not change the layout). Options the chosen
    /// version's ZeekControl does not have yet are ignored with a warning, as ZeekControl ignores unknown
    /// options.
    ///
    /// - Parameters:
    ///   - cfg: The options, later ones winning.
    ///   - version: The Zeek version.
    /// - Returns: The settings and the problems found (bad values are errors and keep the default).
    public static func resolved(
        from cfg: ZeekctlCfg,
        version: ZeekVersion = .current
    ) -> (settings: ZeekctlSettings, issues: [ValidationIssue]) {
        var settings = ZeekctlSettings(zeekVersion: version)
        var issues = cfg.issues
        for option in cfg.options {
            settings.apply(option, issues: &issues)
        }
        return (settings, issues)
    }

    private mutating func apply(_ option: Option, issues: inout [ValidationIssue]) {
        func invalid(_ type: String) {
            issues.append(
                .error(
                    .invalidZeekctlOption,
                    "zeekctl option '\(option.name)' has invalid value '\(option.value)' for type \(type)",
                    at: option.location,
                    key: option.name
                )
            )
        }
        /// The option's value as an integer in `range`, or `nil` after reporting why not (the default stays).
        func integer(in range: ClosedRange<Int>, _ what: String) -> Int? {
            guard let number = TextLines.pythonIntClamped(Substring(option.value)) else {
                invalid("int")
                return nil
            }
            guard range.contains(number) else {
                issues.append(
                    .error(
                        .invalidZeekctlOption,
                        "zeekctl option '\(option.name)' has value '\(option.value)' outside the range of \(what) "
                            + "(\(range.lowerBound)-\(range.upperBound))",
                        at: option.location,
                        key: option.name
                    )
                )
                return nil
            }
            return number
        }
        func unsupported(since: ZeekVersion) -> Bool {
            guard zeekVersion < since else { return false }
            issues.append(
                .warning(
                    .unsupportedSetting,
                    "zeekctl option '\(option.name)' exists only since Zeek \(since) (ZeekControl of Zeek "
                        + "\(zeekVersion) ignores it)",
                    at: option.location,
                    key: option.name
                )
            )
            return true
        }
        let value = option.value
        if value.count >= 2,
            (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'"))
        {
            issues.append(
                .error(
                    .invalidZeekctlOption,
                    "value of zeekctl option \"\(option.name)\" cannot be wrapped in quotes",
                    at: option.location,
                    key: option.name
                )
            )
            return
        }
        switch option.name {
        case "zeekport":
            if let number = integer(in: Self.portRange, "ports") { zeekPort = number }
        case "metricsport":
            guard !unsupported(since: ZeekVersion(7, 0)) else { return }
            if let number = integer(in: Self.portRange, "ports") { metricsPort = number }
        case "websocketport":
            guard !unsupported(since: ZeekVersion(8, 0)) else { return }
            if let number = integer(in: Self.portRange, "ports") { webSocketPort = number }
        case "usewebsocket":
            guard !unsupported(since: ZeekVersion(8, 0)) else { return }
            switch value.lowercased() {
            case "1", "true": useWebSocket = true
            case "0", "false": useWebSocket = false
            default: invalid("bool")
            }
        case "websockethost":
            guard !unsupported(since: ZeekVersion(8, 0)) else { return }
            webSocketHost = value
        case "clusterbackend":
            guard !unsupported(since: ZeekVersion(8, 0)) else { return }
            guard let backend = Backend.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() })
            else {
                issues.append(
                    .error(
                        .invalidZeekctlOption,
                        "zeekctl option 'clusterbackend' has unknown value '\(value)' (expected Broker or ZeroMQ)",
                        at: option.location,
                        key: option.name
                    )
                )
                return
            }
            clusterBackend = backend
        case "timemachinehost": timeMachineHost = value
        case "timemachineport": timeMachinePort = value
        case "env_vars": envVars = value
        case "lb_custom.interfaceprefix": customInterfacePrefix = value
        case "lb_custom.interfacesuffix": customInterfaceSuffix = value
        case "pfringclusterid":
            if let number = integer(in: 0...Self.maximumPFRingClusterID, "PF_RING cluster ids") {
                pfRingClusterID = number
            }
        case "pfringclustertype": pfRingClusterType = value
        default: break
        }
    }

    /// One option, as ``ZeekctlCfg`` holds it.
    public typealias Option = ZeekctlCfg.Option

    /// The first port the layout's counter hands out: `ZeekPort`, plus 2 with ZeroMQ (its XPUB and XSUB
    /// ports on the manager).
    ///
    /// Never overflows: past `Int.max` it stays at `Int.max` (a port the validator reports as out of range).
    public var firstLayoutPort: Int { clusterBackend == .zeroMQ ? Self.saturating(zeekPort, plus: 2) : zeekPort }

    /// The ports zeekctl.cfg may give (`ZeekPort`, `MetricsPort`, `WebSocketPort`): 0–65535.
    public static let portRange = 0...65_535

    /// The largest `PFRINGClusterID` read from zeekctl.cfg: 2,147,483,647.
    ///
    /// That is the largest value PF_RING's libpcap reads from `PCAP_PF_RING_CLUSTER_ID` (an `int`). The ids
    /// ZeekControl derives from it (one more per extra interface on a host) must stay within it too.
    public static let maximumPFRingClusterID = Int(Int32.max)

    /// `base + offset` for port counters, `Int.max` instead of overflowing (`Int.min` below).
    static func saturating(_ base: Int, plus offset: Int) -> Int {
        let (sum, overflow) = base.addingReportingOverflow(offset)
        guard overflow else { return sum }
        return offset > 0 ? .max : .min
    }
}
