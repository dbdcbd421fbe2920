/// The event routing of Bro 2.0 to 2.5 clusters: which events travel between which node types.
///
/// Before Bro 2.6 a node's `Communication::nodes[<peer>]` entry carried `$events = <pattern>`: "send me
/// every event you raise locally whose full name matches". The cluster framework
/// (`base/frameworks/cluster/main.bro`) set these patterns up, one per direction, named `X2Y_events` and
/// installed on **Y**'s entry for X. Scripts widened them with `redef Cluster::X2Y_events += /.../`. Bro 2.6
/// replaced all of this with explicit topic publishing.
///
/// Each ``Route`` is one row of that table with its default pattern; ``scriptAdditions`` lists the
/// `+=` of Bro 2.5.5's scripts. Queries answer questions such as "which node types handle
/// `Drop::drop_address` raised on the manager" (``handlers(of:raisedOn:)``) or "what goes from the manager
/// to the workers" (``routes(from:to:)``, ``events(from:to:among:)``).
///
/// Node types are the small ``NodeType`` of this type for now; Bro's time machine has no counterpart in
/// Zeek's `Cluster::NodeType`.
public struct LegacyEventRoutes: Sendable, Hashable {
    /// A kind of Bro 2.x node, as far as event routing is concerned.
    public enum NodeType: String, Sendable, Hashable, CaseIterable, Comparable {
        /// The manager.
        case manager
        /// A logger (Bro 2.5 and later).
        case logger
        /// A proxy.
        case proxy
        /// A worker.
        case worker
        /// A Time Machine process (`"time-machine"` entries).
        case timeMachine
        /// The controller, BroControl (`"control"` entries).
        case control

        /// Orders as the cases are declared.
        ///
        /// - Parameters:
        ///   - lhs: A node type.
        ///   - rhs: Another node type.
        /// - Returns: Whether `lhs` is declared first.
        public static func < (lhs: NodeType, rhs: NodeType) -> Bool {
            let order = NodeType.allCases
            return order.firstIndex(of: lhs) ?? 0 < order.firstIndex(of: rhs) ?? 0
        }
    }

    /// A Bro release number such as 2.5.5.
    public struct BroVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The major number.
        public var major: Int
        /// The minor number.
        public var minor: Int
        /// The patch number.
        public var patch: Int

        /// Creates a version.
        ///
        /// - Parameters:
        ///   - major: The major number.
        ///   - minor: The minor number.
        ///   - patch: The patch number.
        public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }

        /// Orders by major, minor, then patch number.
        ///
        /// - Parameters:
        ///   - lhs: A version.
        ///   - rhs: Another version.
        /// - Returns: Whether `lhs` is older.
        public static func < (lhs: BroVersion, rhs: BroVersion) -> Bool {
            (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }

        /// The version as `2.5.5`.
        public var description: String { "\(major).\(minor).\(patch)" }

        /// Bro 2.0, the first release with the cluster framework's `X2Y_events`.
        public static let bro20 = BroVersion(2, 0)
        /// Bro 2.5, which added loggers and the `*2logger_events` patterns.
        public static let bro25 = BroVersion(2, 5)
        /// Bro 2.5.5, the last release with pattern routing.
        public static let bro255 = BroVersion(2, 5, 5)
        /// Bro 2.6, which removed pattern routing.
        public static let bro26 = BroVersion(2, 6)
    }

    /// One routing pattern: the events one node type sends to another.
    public struct Route: Sendable, Hashable {
        /// The pattern's name without the `Cluster::` module, such as `manager2worker_events`.
        public var patternName: String
        /// The pattern as `base/frameworks/cluster/main.bro` declares it.
        public var defaultPattern: ZeekPattern
        /// The pattern in force: the default plus every addition applied.
        public var pattern: ZeekPattern
        /// The node type that raises the events locally.
        public var raisedOn: NodeType
        /// The node types that receive and handle them.
        public var handledOn: [NodeType]
        /// Whose `Communication::nodes` entry carries the pattern, in Bro's words.
        public var installedOn: String
        /// Other fields that entry sets, such as `$sync=T`.
        public var entryOptions: [String]
        /// The node type that opens the connection.
        public var connectingNode: NodeType
        /// The node types that accept it (several only for `control_events`, accepted by every node).
        public var acceptingNodes: [NodeType]
        /// The first Bro release with this pattern.
        public var introducedIn: BroVersion
        /// The release that removed it (2.6 for all patterns).
        public var removedIn: BroVersion

        /// Creates a route.
        ///
        /// - Parameters:
        ///   - patternName: The pattern's name, such as `manager2worker_events`.
        ///   - defaultPattern: The default pattern; also the pattern in force until additions are applied.
        ///   - raisedOn: The node type that raises the events.
        ///   - handledOn: The node types that handle them.
        ///   - installedOn: Whose entry carries the pattern.
        ///   - entryOptions: Other fields of that entry.
        ///   - connectingNode: The node type that connects.
        ///   - acceptingNodes: The node types that accept the connection.
        ///   - introducedIn: The first release with the pattern.
        ///   - removedIn: The release that removed it.
        public init(
            patternName: String,
            defaultPattern: ZeekPattern,
            raisedOn: NodeType,
            handledOn: [NodeType],
            installedOn: String,
            entryOptions: [String] = [],
            connectingNode: NodeType,
            acceptingNodes: [NodeType],
            introducedIn: BroVersion = .bro20,
            removedIn: BroVersion = .bro26
        ) {
            self.patternName = patternName
            self.defaultPattern = defaultPattern
            self.pattern = defaultPattern
            self.raisedOn = raisedOn
            self.handledOn = handledOn
            self.installedOn = installedOn
            self.entryOptions = entryOptions
            self.connectingNode = connectingNode
            self.acceptingNodes = acceptingNodes
            self.introducedIn = introducedIn
            self.removedIn = removedIn
        }

        /// Whether a Bro release has this pattern.
        ///
        /// - Parameter version: The release.
        /// - Returns: `true` when `introducedIn <= version < removedIn`.
        public func applies(to version: BroVersion) -> Bool {
            introducedIn <= version && version < removedIn
        }

        /// Whether the route carries `event`: whether the whole name matches ``pattern``.
        ///
        /// - Parameter event: The fully qualified event name, such as `Drop::drop_address`.
        /// - Returns: `true` when the pattern matches the whole name.
        public func carries(_ event: String) -> Bool {
            pattern.matches(event)
        }
    }

    /// One `redef Cluster::<patternName> += <pattern>` from a Bro script.
    public struct Addition: Sendable, Hashable {
        /// The pattern extended, such as `manager2worker_events`.
        public var patternName: String
        /// The pattern added.
        public var pattern: ZeekPattern
        /// The script that adds it, such as `base/frameworks/intel/cluster.bro`.
        public var script: String

        /// Creates an addition.
        ///
        /// - Parameters:
        ///   - patternName: The pattern extended.
        ///   - pattern: The pattern added.
        ///   - script: The script that adds it.
        public init(patternName: String, pattern: ZeekPattern, script: String) {
            self.patternName = patternName
            self.pattern = pattern
            self.script = script
        }
    }

    /// The routes in force, in the order of the table in `main.bro`.
    public private(set) var routes: [Route]
    /// The Bro release the table describes.
    public let version: BroVersion

    /// Creates the default routing of a Bro release, without any script's additions.
    ///
    /// Routes the release does not have (the logger patterns before 2.5) are left out, and so are loggers
    /// among the handlers of `control_events`.
    ///
    /// - Parameter version: The Bro release, from 2.0 to 2.5.x.
    public init(version: BroVersion = .bro255) {
        self.version = version
        let hasLoggers = version >= .bro25
        routes = Self.defaultRoutes.filter { $0.applies(to: version) }.map { route in
            var route = route
            if !hasLoggers {
                route.handledOn.removeAll { $0 == .logger }
                route.acceptingNodes.removeAll { $0 == .logger }
            }
            return route
        }
    }

    /// Bro 2.5.5's routing with every addition in ``scriptAdditions`` applied (validate-certs included).
    public static let bro255WithScriptAdditions: LegacyEventRoutes = {
        var routes = LegacyEventRoutes(version: .bro255)
        for addition in scriptAdditions { routes.apply(addition) }
        return routes
    }()

    /// Widens a pattern, as `redef Cluster::<patternName> += <pattern>`.
    ///
    /// - Parameters:
    ///   - pattern: The pattern to add.
    ///   - patternName: The pattern to widen, such as `worker2manager_events`.
    /// - Returns: `false` when no route has that name (in this release).
    @discardableResult
    public mutating func add(_ pattern: ZeekPattern, to patternName: String) -> Bool {
        guard let index = routes.firstIndex(where: { $0.patternName == patternName }) else { return false }
        routes[index].pattern += pattern
        return true
    }

    /// Applies one script's addition.
    ///
    /// - Parameter addition: The addition.
    /// - Returns: `false` when no route has the addition's pattern name (in this release).
    @discardableResult
    public mutating func apply(_ addition: Addition) -> Bool {
        add(addition.pattern, to: addition.patternName)
    }

    // MARK: - Queries

    /// The route with a pattern name.
    ///
    /// - Parameter patternName: The name, such as `manager2worker_events`.
    /// - Returns: The route, or `nil` when this release has none by that name.
    public func route(named patternName: String) -> Route? {
        routes.first { $0.patternName == patternName }
    }

    /// The routes from one node type to another.
    ///
    /// - Parameters:
    ///   - raisedOn: The node type raising the events.
    ///   - handledOn: The node type receiving them.
    /// - Returns: The matching routes, in table order (usually one).
    public func routes(from raisedOn: NodeType, to handledOn: NodeType) -> [Route] {
        routes.filter { $0.raisedOn == raisedOn && $0.handledOn.contains(handledOn) }
    }

    /// The routes that carry an event, from any node type.
    ///
    /// - Parameter event: The fully qualified event name.
    /// - Returns: Every route whose pattern matches the whole name, in table order.
    public func routes(carrying event: String) -> [Route] {
        routes.filter { $0.carries(event) }
    }

    /// The node types that receive an event raised on one node type.
    ///
    /// The raising node handles its own event locally as well; that is not listed.
    ///
    /// - Parameters:
    ///   - event: The fully qualified event name, such as `Drop::drop_address`.
    ///   - raisedOn: The node type raising it.
    /// - Returns: The receiving node types, each once, in ``NodeType`` order; empty when the event stays local.
    public func handlers(of event: String, raisedOn: NodeType) -> [NodeType] {
        let receivers = routes.filter { $0.raisedOn == raisedOn && $0.carries(event) }.flatMap(\.handledOn)
        return Set(receivers).sorted()
    }

    /// The events among `candidates` that travel from one node type to another.
    ///
    /// A pattern describes a set of names, not a list; pass the names to check, for example every event a
    /// script declares.
    ///
    /// - Parameters:
    ///   - raisedOn: The node type raising the events.
    ///   - handledOn: The node type receiving them.
    ///   - candidates: The event names to check.
    /// - Returns: The candidates that are sent, in their given order.
    public func events(from raisedOn: NodeType, to handledOn: NodeType, among candidates: [String]) -> [String] {
        let routes = routes(from: raisedOn, to: handledOn)
        return candidates.filter { event in routes.contains { $0.carries(event) } }
    }
}

// MARK: - The table

extension LegacyEventRoutes {
    /// Reads a pattern literal written in this file.
    private static func literal(_ text: String) -> ZeekPattern {
        do {
            return try ZeekPattern(text)
        } catch {
            preconditionFailure("invalid built-in pattern \(text): \(error)")
        }
    }

    /// `/EMPTY/`, Bro's placeholder for "no events": it matches only a name that is literally `EMPTY`.
    public static let emptyPattern = literal("/EMPTY/")

    /// `Control::controller_events`, `/Control::.*_request/`: what BroControl sends to every node.
    public static let controllerEvents = literal("/Control::.*_request/")

    /// `Control::controllee_events`, `/Control::.*_response/`: what BroControl asked the nodes for.
    ///
    /// The replies were ordinary local events on the controllee, sent because the controller requested
    /// them; no node's entry carries this pattern.
    public static let controlleeEvents = literal("/Control::.*_response/")

    /// Every row of `base/frameworks/cluster/main.bro`'s routing, with the release that introduced it.
    public static let defaultRoutes: [Route] = [
        Route(
            patternName: "manager2worker_events",
            defaultPattern: literal("/Drop::.*/"),
            raisedOn: .manager,
            handledOn: [.worker],
            installedOn: "worker's \"manager\" entry",
            connectingNode: .worker,
            acceptingNodes: [.manager]
        ),
        Route(
            patternName: "worker2manager_events",
            defaultPattern: literal("/(TimeMachine::command|Drop::.*)/"),
            raisedOn: .worker,
            handledOn: [.manager],
            installedOn: "manager's worker entries",
            entryOptions: ["$request_logs=manager_is_logger"],
            connectingNode: .worker,
            acceptingNodes: [.manager]
        ),
        Route(
            patternName: "manager2proxy_events",
            defaultPattern: emptyPattern,
            raisedOn: .manager,
            handledOn: [.proxy],
            installedOn: "proxy's \"manager\" entry",
            connectingNode: .proxy,
            acceptingNodes: [.manager]
        ),
        Route(
            patternName: "proxy2manager_events",
            defaultPattern: emptyPattern,
            raisedOn: .proxy,
            handledOn: [.manager],
            installedOn: "manager's proxy entries",
            connectingNode: .proxy,
            acceptingNodes: [.manager]
        ),
        Route(
            patternName: "proxy2worker_events",
            defaultPattern: emptyPattern,
            raisedOn: .proxy,
            handledOn: [.worker],
            installedOn: "worker's \"proxy\" entry",
            entryOptions: ["$sync=T"],
            connectingNode: .worker,
            acceptingNodes: [.proxy]
        ),
        Route(
            patternName: "worker2proxy_events",
            defaultPattern: emptyPattern,
            raisedOn: .worker,
            handledOn: [.proxy],
            installedOn: "proxy's worker entries",
            entryOptions: ["$sync=T", "$auth=T"],
            connectingNode: .worker,
            acceptingNodes: [.proxy]
        ),
        Route(
            patternName: "manager2logger_events",
            defaultPattern: emptyPattern,
            raisedOn: .manager,
            handledOn: [.logger],
            installedOn: "logger's manager entry",
            entryOptions: ["$request_logs=T"],
            connectingNode: .manager,
            acceptingNodes: [.logger],
            introducedIn: .bro25
        ),
        Route(
            patternName: "proxy2logger_events",
            defaultPattern: emptyPattern,
            raisedOn: .proxy,
            handledOn: [.logger],
            installedOn: "logger's proxy entries",
            connectingNode: .proxy,
            acceptingNodes: [.logger],
            introducedIn: .bro25
        ),
        Route(
            patternName: "worker2logger_events",
            defaultPattern: emptyPattern,
            raisedOn: .worker,
            handledOn: [.logger],
            installedOn: "logger's worker entries",
            connectingNode: .worker,
            acceptingNodes: [.logger],
            introducedIn: .bro25
        ),
        Route(
            patternName: "tm2manager_events",
            defaultPattern: emptyPattern,
            raisedOn: .timeMachine,
            handledOn: [.manager],
            installedOn: "manager's \"time-machine\" entry",
            connectingNode: .manager,
            acceptingNodes: [.timeMachine]
        ),
        Route(
            patternName: "tm2worker_events",
            defaultPattern: emptyPattern,
            raisedOn: .timeMachine,
            handledOn: [.worker],
            installedOn: "worker's \"time-machine\" entry",
            connectingNode: .worker,
            acceptingNodes: [.timeMachine]
        ),
        Route(
            patternName: "control_events",
            defaultPattern: controllerEvents,
            raisedOn: .control,
            handledOn: [.manager, .logger, .proxy, .worker],
            installedOn: "every node's \"control\" entry (the CONTROL node's address, accept only)",
            connectingNode: .control,
            acceptingNodes: [.manager, .logger, .proxy, .worker]
        ),
    ]

    /// The `redef Cluster::*_events +=` of Bro 2.5.5's scripts, in script order.
    ///
    /// Intel, Notice, SumStats, NetControl and OpenFlow come from `base/`, loaded by every cluster;
    /// SSL's certificate validation from `policy/protocols/ssl/validate-certs.bro`, loaded only when a site
    /// asks for it. NetControl's catch-and-release (`policy/`) is not listed: its pattern text is not
    /// confirmed.
    public static let scriptAdditions: [Addition] = [
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/^Intel::(cluster_new_item|purge_item)$/"),
            script: "base/frameworks/intel/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/^Intel::(cluster_new_item|remove_item|match_no_items)$/"),
            script: "base/frameworks/intel/cluster.bro"
        ),
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/Notice::begin_suppression/"),
            script: "base/frameworks/notice/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/Notice::cluster_notice/"),
            script: "base/frameworks/notice/cluster.bro"
        ),
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/SumStats::cluster_(ss_request|get_result|threshold_crossed)/"),
            script: "base/frameworks/sumstats/cluster.bro"
        ),
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/SumStats::(get_a_key)/"),
            script: "base/frameworks/sumstats/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/SumStats::cluster_(send_result|key_intermediate_response)/"),
            script: "base/frameworks/sumstats/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/SumStats::(send_a_key|send_no_key)/"),
            script: "base/frameworks/sumstats/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/NetControl::cluster_netcontrol_(add|remove)_rule/"),
            script: "base/frameworks/netcontrol/cluster.bro"
        ),
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/NetControl::rule_(added|removed|timeout|error)/"),
            script: "base/frameworks/netcontrol/cluster.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/OpenFlow::cluster_flow_(mod|clear)/"),
            script: "base/frameworks/openflow/cluster.bro"
        ),
        Addition(
            patternName: "manager2worker_events",
            pattern: literal("/SSL::intermediate_add/"),
            script: "policy/protocols/ssl/validate-certs.bro"
        ),
        Addition(
            patternName: "worker2manager_events",
            pattern: literal("/SSL::new_intermediate/"),
            script: "policy/protocols/ssl/validate-certs.bro"
        ),
    ]
}
