import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime

/// `global NAME: event(…)` declarations read from Zeek script for a hub's event catalog.
@Suite struct EventDeclarationsTests {
    @Test func declarationsAreReadWithTheirModuleAndTypes() {
        let script = """
            # Site rules, published by a client of the WebSocket API.
            module Site;

            export {
                type Rule: record { id: string; priority: int; };
                global add_rules: event(id: string, rules: vector of Rule, expires: interval &default=1min);
                global ping: event(n: count,
                                   peer: addr, tags: set[string], seen: table[addr] of time) &is_used;
                global Other::pong: event(when: time, what: any, rule: Site::Rule, r: record { a: int; });
            }

            event add_rules(id: string, rules: vector of Rule, expires: interval) { print id; }
            """
        let read = EventDeclarations(reading: script, file: "site.zeek")
        #expect(read.issues.isEmpty, "\(read.issues)")
        #expect(
            read.signatures == [
                EventCatalog.Signature(
                    "Site::add_rules",
                    parameters: [
                        .init("id", .string), .init("rules", .vector), .init("expires", .timespan, hasDefault: true),
                    ]
                ),
                EventCatalog.Signature(
                    "Site::ping",
                    [("n", .count), ("peer", .address), ("tags", .set), ("seen", .table)]
                ),
                EventCatalog.Signature(
                    "Other::pong",
                    [("when", .timestamp), ("what", nil), ("rule", nil), ("r", .vector)]
                ),
            ]
        )
        var catalog = EventCatalog.standard
        for signature in read.signatures { catalog.declare(signature) }
        #expect(
            catalog.check(Broker.Event("Site::add_rules", ["x", .vector([]), .timespan(.init(.seconds(60)))])) == nil
        )
        #expect(
            catalog.check(Broker.Event("Site::add_rules", ["x", .vector([])])) == nil,
            "a parameter with &default may be left out"
        )
        #expect(
            catalog.check(Broker.Event("Site::add_rules", ["x", "y", .timespan(.init(.seconds(60)))]))?.code
                == .wrongArgumentType
        )
    }

    @Test func aDeclarationThatCannotBeReadIsAnIssueWithFileAndLineAndTheOthersAreKept() {
        let script = """
            global good: event(a: count);
            global typo: event(a: strng);

            global broken: event(a count);
            global unclosed: event(a: set[string);
            """
        let read = EventDeclarations(reading: script, file: "bad.zeek")
        #expect(read.signatures == [EventCatalog.Signature("good", [("a", .count)])])
        #expect(
            read.issues.map(\.description) == [
                "bad.zeek:2: cannot read the declaration of event 'typo': unknown type 'strng'",
                "bad.zeek:4: cannot read the declaration of event 'broken': expected a parameter 'name: type', found 'a'",
                "bad.zeek:5: cannot read the declaration of event 'unclosed': no ']' before the end of the file",
            ]
        )
    }

    @Test func nothingButDeclarationsCountsAndHostileTextEnds() {
        #expect(EventDeclarations(reading: "", file: "x").signatures.isEmpty)
        #expect(EventDeclarations(reading: "global x: count = 5; event zeek_init() {}", file: "x").signatures.isEmpty)
        let deep = "global d: event(a: " + String(repeating: "vector of ", count: 2_000) + "count);"
        let read = EventDeclarations(reading: deep, file: "deep.zeek")
        #expect(read.signatures.isEmpty)
        #expect(
            read.issues.map(\.message) == ["cannot read the declaration of event 'd': a type nested deeper than 64"]
        )
        #expect(EventDeclarations(reading: "global e: event(\"", file: "x").issues.count == 1)
    }
}
