import ClusterKit

/// A small report with a multi-line value, a timeout and a request-level error.
enum DispatchReportFixture {
    static func make() -> DispatchReport {
        DispatchReport(
            entries: [
                DispatchReport.Entry(node: "worker-1", nodeType: .worker, outcome: .timedOut(after: .seconds(2))),
                DispatchReport.Entry(node: "manager", nodeType: .manager, outcome: .replied("{\n\t1.2.3.4/32\n}")),
            ],
            errors: ["request timed out"],
            valueEncoding: .text
        )
    }
}
