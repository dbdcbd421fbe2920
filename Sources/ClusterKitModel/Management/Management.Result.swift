extension Management {
    /// Zeek's `Management::Result`: one outcome of a request, from the controller, an agent or a node.
    ///
    /// Fields in wire order: `reqid`, `success` (default `true`), `instance`, `data` (Zeek's `any`),
    /// `error`, `node`.
    public struct Result: BrokerRecord, Sendable, Hashable {
        /// The request id (for node and agent results an internal sub-request id, not the client's).
        public var reqid: String
        /// A Boolean value indicating whether the request succeeded; default `true`.
        public var success: Bool
        /// The instance (agent) the result comes from.
        public var instance: String?
        /// The payload, whose type depends on the request.
        public var data: Broker.Value?
        /// The error text of a failure.
        public var error: String?
        /// The node the result is about.
        public var node: String?

        /// Creates a result.
        ///
        /// - Parameters:
        ///   - reqid: The request id.
        ///   - success: Whether it succeeded.
        ///   - instance: The instance.
        ///   - data: The payload.
        ///   - error: The error text.
        ///   - node: The node.
        public init(
            reqid: String,
            success: Bool = true,
            instance: String? = nil,
            data: Broker.Value? = nil,
            error: String? = nil,
            node: String? = nil
        ) {
            self.reqid = reqid
            self.success = success
            self.instance = instance
            self.data = data
            self.error = error
            self.node = node
        }

        /// `Management::Result`.
        public static let zeekTypeName = "Management::Result"
        /// The fields in declaration order.
        public static let fieldNames = ["reqid", "success", "instance", "data", "error", "node"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                reqid: try record.required(),
                success: try record.withDefault(true),
                instance: try record.optional(),
                data: record.any(),
                error: try record.optional(),
                node: try record.optional()
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                reqid.brokerValue, success.brokerValue, instance?.brokerValue ?? .none, data ?? .none,
                error?.brokerValue ?? .none, node?.brokerValue ?? .none,
            ]
        }
    }

    /// Zeek's `Management::Option`: a script option name and value, as text.
    public struct Option: BrokerRecord, Sendable, Hashable {
        /// The option's name.
        public var name: String
        /// The option's value, as Zeek script text.
        public var value: String

        /// Creates an option.
        ///
        /// - Parameters:
        ///   - name: The name.
        ///   - value: The value text.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        /// `Management::Option`.
        public static let zeekTypeName = "Management::Option"
        /// The fields in declaration order.
        public static let fieldNames = ["name", "value"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(name: try record.required(), value: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [name.brokerValue, value.brokerValue] }
    }

    /// Zeek's `Management::NodeOutputs`: the recent standard output and error of a node.
    public struct NodeOutputs: BrokerRecord, Sendable, Hashable {
        /// The standard output text.
        public var stdout: String
        /// The standard error text.
        public var stderr: String

        /// Creates outputs.
        ///
        /// - Parameters:
        ///   - stdout: The standard output text.
        ///   - stderr: The standard error text.
        public init(stdout: String, stderr: String) {
            self.stdout = stdout
            self.stderr = stderr
        }

        /// `Management::NodeOutputs`.
        public static let zeekTypeName = "Management::NodeOutputs"
        /// The fields in declaration order.
        public static let fieldNames = ["stdout", "stderr"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(stdout: try record.required(), stderr: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [stdout.brokerValue, stderr.brokerValue] }
    }
}
