import ClusterKit
import Foundation

/// `clusterkit-bench codec [DIR]`: Broker JSON v1 decode and encode throughput on the fixture messages.
func runCodecBenchmark(arguments: [String]) async throws {
    let directory = arguments.first ?? "Tests/ClusterKitTests/Fixtures/broker-json"
    let names = ["get_id_value_response_100.json", "get_nodes_response_100.json"]
    print("Broker JSON v1 codec, \(directory); median of 7 runs, MB/s (min-max)")
    for name in names {
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        let megabytes = Double(text.utf8.count) / 1_000_000
        let message = try Broker.JSON.decodeMessage(text)
        let decodeRates = try Measure.rates { _ = try Broker.JSON.decodeMessage(text) }.map { $0 * megabytes }
        let encoded = Broker.JSON.encode(message)
        let encodeMegabytes = Double(encoded.utf8.count) / 1_000_000
        let encodeRates = Measure.rates { _ = Broker.JSON.encode(message) }.map { $0 * encodeMegabytes }
        print(
            "\(name) (\(text.utf8.count) bytes in, \(encoded.utf8.count) bytes out): "
                + "decode \(Measure.format(Measure.median(decodeRates))) MB/s "
                + "(\(Measure.format(decodeRates.first ?? 0))-\(Measure.format(decodeRates.last ?? 0))), "
                + "encode \(Measure.format(Measure.median(encodeRates))) MB/s "
                + "(\(Measure.format(encodeRates.first ?? 0))-\(Measure.format(encodeRates.last ?? 0)))"
        )
    }
}
