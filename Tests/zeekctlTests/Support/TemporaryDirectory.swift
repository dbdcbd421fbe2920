import Foundation

/// Runs `body` with a fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("zeekctl-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Writes `text` to `name` inside `directory`.
func write(_ text: String, to name: String, in directory: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
}

/// The cluster used by the CLI tests (IP literals only, so no DNS is needed).
let clusterNodeCfg = """
    [logger-1]
    type=logger
    host=127.0.0.1

    [manager]
    type=manager
    host=127.0.0.1

    [proxy-1]
    type=proxy
    host=127.0.0.1

    [worker-1]
    type=worker
    host=127.0.0.1
    interface=eth0
    lb_method=custom
    lb_procs=2

    """

/// A node.cfg the controller refuses to stage: a worker's `env_vars` sets `LD_PRELOAD`.
let preloadingNodeCfg = """
    [manager]
    type=manager
    host=127.0.0.1

    [proxy-1]
    type=proxy
    host=127.0.0.1

    [worker-1]
    type=worker
    host=127.0.0.1
    interface=eth0
    env_vars=LD_PRELOAD=/tmp/evil.so

    """

/// The layout ZeekControl 2.6.0-67 writes for ``clusterNodeCfg`` with its defaults.
let clusterLayoutText = """
    # Automatically generated. Do not edit.
    redef Cluster::manager_is_logger = F;
    redef Cluster::nodes = {
    \t["control"] = [$node_type=Cluster::CONTROL, $ip=127.0.0.1, $p=27762/tcp],
    \t["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=27763/tcp, $metrics_port=9991/tcp],
    \t["logger-1"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=27764/tcp, $metrics_port=9992/tcp],
    \t["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $p=27765/tcp, $manager="manager", $metrics_port=9993/tcp],
    \t["worker-1-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=27766/tcp, $manager="manager", $metrics_port=9994/tcp],
    \t["worker-1-2"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=27767/tcp, $manager="manager", $metrics_port=9995/tcp],
    };

    event zeek_init()
    \t{
    \tif ( getenv("ZEEKCTL_DISABLE_LISTEN") == "" && (Cluster::local_node_type() == Cluster::MANAGER || ! Cluster::is_enabled()) )
    \t\t{
    \t\tCluster::listen_websocket([$listen_addr=127.0.0.1, $listen_port=27759/tcp]);
    \t\t}
    \t}

    """
