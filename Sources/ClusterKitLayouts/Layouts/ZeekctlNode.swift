public import ClusterKitModel

/// One node as ZeekControl holds it after reading node.cfg: expanded (`lb_procs`), checked, with its
/// address, count, plugin rewrites, and the ports the layout gives it.
public struct ZeekctlNode: Sendable, Hashable {
    /// The node's name (`worker-1-2` for the second process of `[worker-1] lb_procs=…`).
    public var name: String
    /// The node's type.
    public var type: ZeekctlNodeType
    /// The `host` key as written.
    public var host: String
    /// The address ZeekControl uses (`addr`): resolved from `host`, or `nil` when not resolved.
    public var address: Broker.Address?
    /// `interface`, after `lb_method=interfaces` and plugin rewrites (`af_packet::eth0`).
    public var interface: String
    /// `lb_procs` as written (every process of an expanded section keeps it).
    public var lbProcs: String
    /// `lb_method`.
    public var lbMethod: String
    /// `lb_interfaces` as written.
    public var lbInterfaces: String
    /// The CPU this process is pinned to (`pin_cpus` after round-robin assignment), if any.
    public var pinCPU: Int?
    /// `env_vars` as parsed, with zeekctl.cfg's `env_vars` and plugin variables added.
    public var envVars: [String: String]
    /// `aux_scripts`.
    public var auxScripts: String
    /// `zone_id` (unused).
    public var zoneID: String
    /// `zeekbase` (unused).
    public var zeekbase: String
    /// `ether` (unused).
    public var ether: String
    /// Plugin keys (`af_packet_*`, `test_mykey`), `""` when unset.
    public var pluginValues: [String: String]
    /// The node's number within its type, in file order (ZeekControl's `count`).
    public var count: Int
    /// The Broker port the layout gives the node; `nil` when it gets none.
    public var port: Int?
    /// The metrics port the layout gives the node; `nil` when it gets none.
    public var metricsPort: Int?
    /// Where the node's section starts.
    public var location: SourceLocation

    /// Creates a node with ZeekControl's empty defaults.
    ///
    /// - Parameters:
    ///   - name: The name.
    ///   - type: The type.
    ///   - host: The host as written.
    ///   - location: Where its section starts.
    public init(name: String, type: ZeekctlNodeType, host: String, location: SourceLocation) {
        self.name = name
        self.type = type
        self.host = host
        self.address = nil
        self.interface = ""
        self.lbProcs = ""
        self.lbMethod = ""
        self.lbInterfaces = ""
        self.pinCPU = nil
        self.envVars = [:]
        self.auxScripts = ""
        self.zoneID = ""
        self.zeekbase = ""
        self.ether = ""
        self.pluginValues = [:]
        self.count = 0
        self.port = nil
        self.metricsPort = nil
        self.location = location
    }

    /// Every attribute as `zeekctl nodes` prints it, sorted by key.
    ///
    /// The keys are `addr`, the plugin keys, `aux_scripts`, `count`, `env_vars` (`K=V` sorted, joined with
    /// `,`), and so on up to `zone_id`.
    public var zeekctlAttributes: [(key: String, value: String)] {
        var attributes: [(key: String, value: String)] = [
            ("addr", address?.description ?? ""), ("aux_scripts", auxScripts), ("count", String(count)),
            ("env_vars", envVars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
            ("ether", ether), ("host", host), ("interface", interface), ("lb_interfaces", lbInterfaces),
            ("lb_method", lbMethod), ("lb_procs", lbProcs), ("name", name), ("pin_cpus", pinCPU.map(String.init) ?? ""),
            ("type", type.rawValue), ("zeekbase", zeekbase), ("zone_id", zoneID),
        ]
        for key in NodeCfg.pluginKeys { attributes.append((key, pluginValues[key] ?? "")) }
        return attributes.sorted { $0.key < $1.key }
    }

    /// The line `zeekctl nodes` prints for this node: the name right-aligned in 16 columns, ` - `, then
    /// every attribute as `key=value`.
    public var zeekctlDescription: String {
        let padding = String(repeating: " ", count: max(0, 16 - name.count))
        return padding + name + " - " + zeekctlAttributes.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
