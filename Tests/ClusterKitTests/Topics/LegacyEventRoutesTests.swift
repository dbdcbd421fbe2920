import ClusterKit
import Testing

@Suite struct LegacyEventRoutesTests {
    typealias NodeType = LegacyEventRoutes.NodeType

    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var pattern: String
        var raisedOn: NodeType
        var handledOn: [NodeType]
        var connecting: NodeType
        var introducedIn: LegacyEventRoutes.BroVersion
        var description: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "manager2worker_events",
            pattern: "/Drop::.*/",
            raisedOn: .manager,
            handledOn: [.worker],
            connecting: .worker,
            introducedIn: .bro20
        ),
        Row(
            name: "worker2manager_events",
            pattern: "/(TimeMachine::command|Drop::.*)/",
            raisedOn: .worker,
            handledOn: [.manager],
            connecting: .worker,
            introducedIn: .bro20
        ),
        Row(
            name: "manager2proxy_events",
            pattern: "/EMPTY/",
            raisedOn: .manager,
            handledOn: [.proxy],
            connecting: .proxy,
            introducedIn: .bro20
        ),
        Row(
            name: "proxy2manager_events",
            pattern: "/EMPTY/",
            raisedOn: .proxy,
            handledOn: [.manager],
            connecting: .proxy,
            introducedIn: .bro20
        ),
        Row(
            name: "proxy2worker_events",
            pattern: "/EMPTY/",
            raisedOn: .proxy,
            handledOn: [.worker],
            connecting: .worker,
            introducedIn: .bro20
        ),
        Row(
            name: "worker2proxy_events",
            pattern: "/EMPTY/",
            raisedOn: .worker,
            handledOn: [.proxy],
            connecting: .worker,
            introducedIn: .bro20
        ),
        Row(
            name: "manager2logger_events",
            pattern: "/EMPTY/",
            raisedOn: .manager,
            handledOn: [.logger],
            connecting: .manager,
            introducedIn: .bro25
        ),
        Row(
            name: "proxy2logger_events",
            pattern: "/EMPTY/",
            raisedOn: .proxy,
            handledOn: [.logger],
            connecting: .proxy,
            introducedIn: .bro25
        ),
        Row(
            name: "worker2logger_events",
            pattern: "/EMPTY/",
            raisedOn: .worker,
            handledOn: [.logger],
            connecting: .worker,
            introducedIn: .bro25
        ),
        Row(
            name: "tm2manager_events",
            pattern: "/EMPTY/",
            raisedOn: .timeMachine,
            handledOn: [.manager],
            connecting: .manager,
            introducedIn: .bro20
        ),
        Row(
            name: "tm2worker_events",
            pattern: "/EMPTY/",
            raisedOn: .timeMachine,
            handledOn: [.worker],
            connecting: .worker,
            introducedIn: .bro20
        ),
        Row(
            name: "control_events",
            pattern: "/Control::.*_request/",
            raisedOn: .control,
            handledOn: [.manager, .logger, .proxy, .worker],
            connecting: .control,
            introducedIn: .bro20
        ),
    ]

    @Test func tableHasEveryRowInOrder() {
        #expect(LegacyEventRoutes.defaultRoutes.map(\.patternName) == Self.rows.map(\.name))
    }

    @Test(arguments: rows)
    func eachRowHasItsDefaultPatternAndDirection(_ row: Row) throws {
        let route = try #require(LegacyEventRoutes(version: .bro255).route(named: row.name))

        #expect(route.defaultPattern.description == row.pattern)
        #expect(route.pattern == route.defaultPattern)
        #expect(route.raisedOn == row.raisedOn)
        #expect(route.handledOn == row.handledOn)
        #expect(route.connectingNode == row.connecting)
        #expect(route.introducedIn == row.introducedIn)
        #expect(route.removedIn == .bro26)
        #expect(!route.installedOn.isEmpty)
    }

    @Test func defaultPatternsCarryWhatTheTableSays() {
        let routes = LegacyEventRoutes(version: .bro255)

        #expect(routes.handlers(of: "Drop::drop_address", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "Drop::drop_address", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "TimeMachine::command", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "TimeMachine::command", raisedOn: .manager).isEmpty)
        #expect(
            routes.handlers(of: "Control::id_value_request", raisedOn: .control) == [
                .manager, .logger, .proxy, .worker,
            ]
        )
        #expect(routes.handlers(of: "Control::id_value_response", raisedOn: .manager).isEmpty)
        #expect(routes.handlers(of: "Notice::cluster_notice", raisedOn: .worker).isEmpty)
    }

    @Test func emptyPatternsCarryNoRealEvent() {
        let routes = LegacyEventRoutes(version: .bro255)
        let events = [
            "Drop::drop_address", "Control::id_value_request", "Intel::cluster_new_item", "", "empty", "EMPTY::x",
        ]
        let emptyRoutes = routes.routes.filter { $0.defaultPattern == LegacyEventRoutes.emptyPattern }

        #expect(emptyRoutes.count == 9)
        for route in emptyRoutes {
            #expect(events.allSatisfy { !route.carries($0) }, "\(route.patternName)")
        }
    }

    @Test func olderReleasesHaveNoLoggers() {
        let routes = LegacyEventRoutes(version: LegacyEventRoutes.BroVersion(2, 4, 1))

        #expect(routes.route(named: "manager2logger_events") == nil)
        #expect(routes.routes.count == 9)
        #expect(routes.handlers(of: "Control::net_stats_request", raisedOn: .control) == [.manager, .proxy, .worker])
        #expect(LegacyEventRoutes(version: .bro25).routes.count == 12)
    }

    @Test func eventsFromManagerToWorkerAmongCandidates() {
        let candidates = [
            "Drop::drop_address", "Intel::purge_item", "Notice::begin_suppression", "Notice::cluster_notice",
            "SSL::intermediate_add",
        ]

        #expect(
            LegacyEventRoutes(version: .bro255).events(from: .manager, to: .worker, among: candidates) == [
                "Drop::drop_address"
            ]
        )
        #expect(
            LegacyEventRoutes.bro255WithScriptAdditions.events(from: .manager, to: .worker, among: candidates)
                == ["Drop::drop_address", "Intel::purge_item", "Notice::begin_suppression", "SSL::intermediate_add"]
        )
        #expect(
            LegacyEventRoutes.bro255WithScriptAdditions.routes(from: .manager, to: .worker).map(\.patternName) == [
                "manager2worker_events"
            ]
        )
    }

    @Test func scriptAdditionsWidenThePatterns() throws {
        let routes = LegacyEventRoutes.bro255WithScriptAdditions

        #expect(routes.handlers(of: "Intel::cluster_new_item", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "Intel::cluster_new_item", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "Intel::purge_item", raisedOn: .worker).isEmpty)
        #expect(routes.handlers(of: "Intel::remove_item", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "Intel::match_no_items", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "Notice::begin_suppression", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "Notice::cluster_notice", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "SumStats::cluster_ss_request", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "SumStats::send_no_key", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "NetControl::rule_added", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "NetControl::cluster_netcontrol_add_rule", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "OpenFlow::cluster_flow_mod", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "SSL::intermediate_add", raisedOn: .manager) == [.worker])
        #expect(routes.handlers(of: "SSL::new_intermediate", raisedOn: .worker) == [.manager])
        #expect(routes.handlers(of: "Drop::x", raisedOn: .manager) == [.worker])

        let route = try #require(routes.route(named: "manager2worker_events"))
        #expect(route.defaultPattern.description == "/Drop::.*/")
        #expect(route.pattern.source.hasPrefix("((((((Drop::.*)|(^Intel::"))
    }

    @Test func addingToAPatternIsLikeRedefPlusEquals() throws {
        var routes = LegacyEventRoutes(version: .bro255)

        #expect(routes.add(try ZeekPattern("/^ready_for_data_(1|2)$/"), to: "manager2worker_events"))
        #expect(!routes.add(try ZeekPattern("/x/"), to: "no_such_events"))
        #expect(routes.handlers(of: "ready_for_data_2", raisedOn: .manager) == [.worker])
        #expect(routes.routes(carrying: "ready_for_data_1").map(\.patternName) == ["manager2worker_events"])
    }

    @Test func controlleeEventsAreTheResponses() {
        #expect(LegacyEventRoutes.controlleeEvents.matches("Control::id_value_response"))
        #expect(!LegacyEventRoutes.controlleeEvents.matches("Control::id_value_request"))
        #expect(LegacyEventRoutes.controllerEvents.description == "/Control::.*_request/")
    }
}
