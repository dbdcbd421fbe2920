import ClusterKit

/// Renders the issues of checked files as text or JSON.
enum IssueRenderer {
    /// The issues of one file, or a file that could not be loaded.
    struct FileReport: Sendable {
        var file: String
        var format: LayoutFormat?
        var issues: [ValidationIssue]
        var loadError: String?
    }

    /// `FILE:LINE: error|warning: MESSAGE` per issue, then a summary line.
    static func text(_ reports: [FileReport]) -> String {
        var text = ""
        for report in reports {
            if let loadError = report.loadError { text += "\(report.file): error: \(loadError)\n" }
            for issue in report.issues { text += issue.description + "\n" }
        }
        return text + summary(reports) + "\n"
    }

    /// `1 error, 2 warnings in 3 files`.
    static func summary(_ reports: [FileReport]) -> String {
        let (errors, warnings) = counts(reports)
        return "\(plural(errors, "error")), \(plural(warnings, "warning")) in \(plural(reports.count, "file"))"
    }

    static func counts(_ reports: [FileReport]) -> (errors: Int, warnings: Int) {
        var errors = 0
        var warnings = 0
        for report in reports {
            errors += report.issues.errorCount + (report.loadError == nil ? 0 : 1)
            warnings += report.issues.warningCount
        }
        return (errors, warnings)
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    /// One JSON document: every file with its issues, then the totals.
    static func json(_ reports: [FileReport]) -> String {
        let files: [JSONValue] = reports.map { report in
            var issues = report.issues.map(issueJSON)
            if let loadError = report.loadError {
                issues.insert(
                    .object([
                        "file": .string(report.file), "line": .null, "severity": "error", "code": "unreadableFile",
                        "message": .string(loadError), "node": .null, "key": .null,
                    ]),
                    at: 0
                )
            }
            return .object([
                "file": .string(report.file),
                "format": report.format.map { .string($0.rawValue) } ?? .null,
                "errors": .integer(Int64(issues.filter { $0["severity"] == "error" }.count)),
                "warnings": .integer(Int64(report.issues.warningCount)),
                "issues": .array(issues),
            ])
        }
        let (errors, warnings) = counts(reports)
        let document: JSONValue = .object([
            "files": .array(files), "errors": .integer(Int64(errors)), "warnings": .integer(Int64(warnings)),
        ])
        return document.text(style: .python(indent: 2)) + "\n"
    }

    static func issueJSON(_ issue: ValidationIssue) -> JSONValue {
        .object([
            "file": .string(issue.location.file),
            "line": issue.location.line.map { .integer(Int64($0)) } ?? .null,
            "severity": .string(issue.severity.rawValue),
            "code": .string(issue.code.rawValue),
            "message": .string(issue.message),
            "node": issue.node.map(JSONValue.string) ?? .null,
            "key": issue.key.map(JSONValue.string) ?? .null,
        ])
    }
}
