// libFuzzer target `zeek-conf` (Docs/fuzzing.md): Zeek 9's zeek.conf through reading, the generator's checks,
// ClusterKit's cross-host checks, the generated `cluster-layout.zeek`, and the generator's flag form.
//
// Input: without a NUL byte, one `zeek.conf`; with NUL bytes, a folder whose host files `h0.zeek.conf`,
// `h1.zeek.conf`, ... are the parts between them. The first line is also the `-W` value of the flag form.
// Checks, beyond not crashing: the node limit holds, every issue is one line, a rejected input writes no layout,
// and a generated layout reads back as a layout script with the same nodes and no syntax error.
import ClusterKitLayouts
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func zeekConfFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let parts = input.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
    }
    var options = LayoutValidator.Options.standard
    options.limits = .fuzzing
    let loaded: LoadedLayout
    if parts.count == 1 {
        loaded = LayoutLoader(options: options).load(text: parts[0], file: "zeek.conf", format: .zeekConf)
    } else {
        var files: [String: String] = [:]
        for (index, part) in parts.enumerated() { files["c/h\(index).zeek.conf"] = part }
        loaded = LayoutLoader(reader: InMemoryLayoutReader(files), options: options).loadZeekConf(path: "c")
    }
    guard loaded.layout.nodes.count <= LayoutLimits.fuzzing.maximumNodes else {
        fatalError("\(loaded.layout.nodes.count) nodes, over the limit of \(LayoutLimits.fuzzing.maximumNodes)")
    }
    for issue in loaded.issues where issue.description.contains("\n") {
        fatalError("issue is not one line: \(issue.description)")
    }
    // Past a limit (file size, more host files than the node limit) nothing is read: one error, no cluster.
    guard let cluster = loaded.zeekConf else {
        if !loaded.hasErrors { fatalError("a zeek.conf load without its cluster and without an error") }
        return
    }
    if cluster.isRejected {
        if cluster.generatedText != nil { fatalError("a rejected configuration generated a layout") }
    } else if let text = cluster.generatedText {
        checkReadsBack(text, names: loaded.layout.nodes.map(\.name))
    } else {
        fatalError("an accepted configuration generated no layout")
    }

    let firstLine = parts[0].split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
    if case .success(let text) = ZeekLayoutGenerator.Flags(workers: firstLine).generatedText(limits: .fuzzing) {
        checkReadsBack(text, names: nil)
    }
}

/// A generated layout reads back without syntax errors, with `names` when given.
func checkReadsBack(_ text: String, names: [String]?) {
    let script = ClusterLayoutScript.parse(text, file: "cluster-layout.zeek", limits: LayoutLimits.fuzzing)
    for issue in script.issues where issue.code == .scriptSyntaxError {
        fatalError("the generated layout does not read back: \(issue.description)")
    }
    if let names, script.layout.nodes.map(\.name) != names {
        fatalError("generated layout has nodes \(script.layout.nodes.map(\.name)), the configuration \(names)")
    }
}

runFuzzer(zeekConfFuzz)
