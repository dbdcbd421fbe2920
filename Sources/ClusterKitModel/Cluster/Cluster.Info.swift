extension Cluster {
    /// Zeek's `Cluster::Info`: one line of `cluster.log`.
    public struct Info: BrokerRecord, Sendable, Hashable {
        /// When the message was generated (network time).
        public var ts: Broker.Timestamp
        /// The node writing the record.
        public var node: String
        /// The message, such as `got hello from worker-1 (<id>)`.
        public var message: String

        /// Creates a log record.
        ///
        /// - Parameters:
        ///   - ts: The time.
        ///   - node: The writing node.
        ///   - message: The message.
        public init(ts: Broker.Timestamp, node: String, message: String) {
            self.ts = ts
            self.node = node
            self.message = message
        }

        /// `Cluster::Info`.
        public static let zeekTypeName = "Cluster::Info"
        /// The fields in declaration order.
        public static let fieldNames = ["ts", "node", "message"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(ts: try record.required(), node: try record.required(), message: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [ts.brokerValue, node.brokerValue, message.brokerValue] }
    }

    /// Zeek's `Cluster::NetworkInfo`: where an endpoint is.
    public struct NetworkInfo: BrokerRecord, Sendable, Hashable {
        /// The IP address or host name.
        public var address: String
        /// The port.
        public var boundPort: Broker.Port

        /// Creates network info.
        ///
        /// - Parameters:
        ///   - address: The address or host name.
        ///   - boundPort: The port.
        public init(address: String, boundPort: Broker.Port) {
            self.address = address
            self.boundPort = boundPort
        }

        /// `Cluster::NetworkInfo`.
        public static let zeekTypeName = "Cluster::NetworkInfo"
        /// The fields in declaration order.
        public static let fieldNames = ["address", "bound_port"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(address: try record.required(), boundPort: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [address.brokerValue, boundPort.brokerValue] }
    }

    /// Zeek's `Cluster::EndpointInfo`: a WebSocket client as `websocket_client_added` reports it.
    public struct EndpointInfo: BrokerRecord, Sendable, Hashable {
        /// The endpoint id.
        public var id: String
        /// Where the client connects from.
        public var network: NetworkInfo
        /// The `X-Application-Name` header, when sent.
        public var applicationName: String?

        /// Creates endpoint info.
        ///
        /// - Parameters:
        ///   - id: The endpoint id.
        ///   - network: The client's address and port.
        ///   - applicationName: The application name.
        public init(id: String, network: NetworkInfo, applicationName: String? = nil) {
            self.id = id
            self.network = network
            self.applicationName = applicationName
        }

        /// `Cluster::EndpointInfo`.
        public static let zeekTypeName = "Cluster::EndpointInfo"
        /// The fields in declaration order.
        public static let fieldNames = ["id", "network", "application_name"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(id: try record.required(), network: try record.required(), applicationName: try record.optional())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [id.brokerValue, network.brokerValue, applicationName?.brokerValue ?? .none]
        }

        /// Zeek's `format_endpoint_info` text: `'<id>' (<address>:<port>)` plus ` application_name=<name>`.
        public var formatted: String {
            var text = "'\(id)' (\(network.address):\(network.boundPort.number))"
            if let applicationName { text += " application_name=\(applicationName)" }
            return text
        }
    }

    /// Zeek's `Cluster::Event`: an event handler and its arguments, for cluster pub/sub.
    ///
    /// On the wire the handler is a function value, which Broker writes as `[name]`.
    public struct Event: BrokerRecord, Sendable, Hashable {
        /// The event's fully qualified name.
        public var name: String
        /// The arguments.
        public var args: [Broker.Value]

        /// Creates an event.
        ///
        /// - Parameters:
        ///   - name: The event name.
        ///   - args: The arguments.
        public init(name: String, args: [Broker.Value]) {
            self.name = name
            self.args = args
        }

        /// `Cluster::Event`.
        public static let zeekTypeName = "Cluster::Event"
        /// The fields in declaration order.
        public static let fieldNames = ["ev", "args"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            let handler: [Broker.Value] = try record.required()
            guard case .string(let name)? = handler.first else {
                throw Broker.ConversionError(.invalidValue, "event handler must be [name]", path: ["Cluster::Event.ev"])
            }
            self.init(name: name, args: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [.vector([.string(name)]), .vector(args)] }
    }
}

extension Cluster.Info: ZeekLogRecord {
    /// The columns of `cluster.log`: `ts` (`time`), `node` and `message` (`string`).
    public static let zeekLogFields: [ZeekLogField] = [
        ZeekLogField("ts", .time), ZeekLogField("node", .string), ZeekLogField("message", .string),
    ]

    /// The line's values, in column order.
    public var zeekLogValues: [ZeekLogValue] { [.time(ts), .string(node), .string(message)] }
}
