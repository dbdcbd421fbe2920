extension Cluster {
    /// Zeek's `Cluster::WebSocketTLSOptions`: TLS for a WebSocket server.
    ///
    /// TLS is on when both `certFile` and `keyFile` are set, off when neither is; anything else is an error.
    public struct WebSocketTLSOptions: BrokerRecord, Sendable, Hashable {
        /// The certificate file.
        public var certFile: String?
        /// The private key file.
        public var keyFile: String?
        /// A Boolean value indicating whether clients must present certificates; default `false`.
        public var enablePeerVerification: Bool
        /// The CA file for peer verification; default `""` (the implementation's default).
        public var caFile: String
        /// The cipher list; default `""` (the implementation's default).
        public var ciphers: String

        /// Creates TLS options with Zeek's defaults (TLS off).
        ///
        /// - Parameters:
        ///   - certFile: The certificate file.
        ///   - keyFile: The key file.
        ///   - enablePeerVerification: Whether to verify clients.
        ///   - caFile: The CA file.
        ///   - ciphers: The cipher list.
        public init(
            certFile: String? = nil,
            keyFile: String? = nil,
            enablePeerVerification: Bool = false,
            caFile: String = "",
            ciphers: String = ""
        ) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.enablePeerVerification = enablePeerVerification
            self.caFile = caFile
            self.ciphers = ciphers
        }

        /// A Boolean value indicating whether TLS is enabled (both files set).
        public var isEnabled: Bool { certFile != nil && keyFile != nil }

        /// Checks the "both or neither of `cert_file` and `key_file`" rule.
        ///
        /// - Throws: ``Cluster/ConfigurationError`` with code `invalidTLSOptions` naming the missing field.
        public func validate() throws {
            switch (certFile, keyFile) {
            case (nil, nil), (.some, .some): return
            case (.some, nil):
                throw ConfigurationError(.invalidTLSOptions, "invalid tls_options: cert_file set without key_file")
            case (nil, .some):
                throw ConfigurationError(.invalidTLSOptions, "invalid tls_options: key_file set without cert_file")
            }
        }

        /// `Cluster::WebSocketTLSOptions`.
        public static let zeekTypeName = "Cluster::WebSocketTLSOptions"
        /// The fields in declaration order.
        public static let fieldNames = ["cert_file", "key_file", "enable_peer_verification", "ca_file", "ciphers"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                certFile: try record.optional(),
                keyFile: try record.optional(),
                enablePeerVerification: try record.withDefault(false),
                caFile: try record.withDefault(""),
                ciphers: try record.withDefault("")
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                certFile?.brokerValue ?? .none, keyFile?.brokerValue ?? .none, enablePeerVerification.brokerValue,
                caFile.brokerValue, ciphers.brokerValue,
            ]
        }
    }

    /// Zeek's `Cluster::WebSocketServerOptions`: what `Cluster::listen_websocket` takes.
    public struct WebSocketServerOptions: BrokerRecord, Sendable, Hashable {
        /// The host to listen on (deprecated in Zeek 8.0, removed in 8.1; use ``listenAddr``).
        public var listenHost: String?
        /// The address to listen on.
        public var listenAddr: Broker.Address?
        /// The port to listen on.
        public var listenPort: Broker.Port
        /// How many messages from the server's clients may wait for Zeek's main loop; 0 for no limit.
        ///
        /// Beyond it, a client's next message stalls (its socket is not read) until the queue is taken. Default
        /// `Cluster::default_websocket_max_event_queue_size` (32). `WebSocketAPIServer` applies it per connection.
        public var maxEventQueueSize: UInt64
        /// How often clients are pinged (negative disables, fractions of a second are truncated); default
        /// `Cluster::default_websocket_ping_interval` (5 s).
        public var pingInterval: Broker.Timespan
        /// TLS settings; default off.
        public var tlsOptions: WebSocketTLSOptions

        /// Creates server options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - listenHost: The deprecated host field.
        ///   - listenAddr: The address.
        ///   - listenPort: The port.
        ///   - maxEventQueueSize: The limit of the queue of client messages.
        ///   - pingInterval: The ping interval.
        ///   - tlsOptions: TLS settings.
        public init(
            listenHost: String? = nil,
            listenAddr: Broker.Address? = nil,
            listenPort: Broker.Port,
            maxEventQueueSize: UInt64 = 32,
            pingInterval: Broker.Timespan = Broker.Timespan(.seconds(5)),
            tlsOptions: WebSocketTLSOptions = WebSocketTLSOptions()
        ) {
            self.listenHost = listenHost
            self.listenAddr = listenAddr
            self.listenPort = listenPort
            self.maxEventQueueSize = maxEventQueueSize
            self.pingInterval = pingInterval
            self.tlsOptions = tlsOptions
        }

        /// Checks the options as `Cluster::listen_websocket` does.
        ///
        /// - Throws: ``Cluster/ConfigurationError``: `cannot use both listen_addr and listen_host`,
        ///   `missing listen_host field`, or an invalid TLS combination.
        public func validate() throws {
            switch (listenAddr, listenHost) {
            case (.some, .some):
                throw ConfigurationError(.invalidListenAddress, "cannot use both listen_addr and listen_host")
            case (nil, nil):
                throw ConfigurationError(.invalidListenAddress, "missing listen_host field")
            default: break
            }
            try tlsOptions.validate()
        }

        /// `Cluster::WebSocketServerOptions`.
        public static let zeekTypeName = "Cluster::WebSocketServerOptions"
        /// The fields in declaration order (Zeek 8.0, with the deprecated `listen_host`).
        public static let fieldNames = [
            "listen_host", "listen_addr", "listen_port", "max_event_queue_size", "ping_interval", "tls_options",
        ]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                listenHost: try record.optional(),
                listenAddr: try record.optional(),
                listenPort: try record.required(),
                maxEventQueueSize: try record.withDefault(32),
                pingInterval: try record.withDefault(Broker.Timespan(.seconds(5))),
                tlsOptions: try record.withDefault(WebSocketTLSOptions())
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                listenHost?.brokerValue ?? .none, listenAddr?.brokerValue ?? .none, listenPort.brokerValue,
                maxEventQueueSize.brokerValue, pingInterval.brokerValue, tlsOptions.brokerValue,
            ]
        }
    }
}
