extension WebSocketServer.Options {
    /// Finds out, without a socket, whether a client with `client`'s TLS settings completes a TLS handshake with a
    /// server of these options reached as `host`: both ends of the handshake run in memory, with the real
    /// certificates, keys, trusted CAs and checks (the server's certificate and `host` for the client; with
    /// ``Cluster/WebSocketTLSOptions/enablePeerVerification``, the client's certificate and its purpose for the
    /// server).
    ///
    /// A program that starts processes which will connect to its own server (`zeekctl controller --processes`)
    /// calls it before starting them, so that a certificate they cannot use is one error at start rather than
    /// processes that fail to connect. Does nothing when the server does not use TLS.
    ///
    /// - Parameters:
    ///   - client: The TLS settings of the client.
    ///   - host: The host name or address literal the client connects to (its certificate check's subject).
    /// - Throws: ``WebSocketError`` with code `tlsUnavailable`; `tlsClientCertificateRefused` when the server
    ///   refuses the client (`the server refuses the client's certificate: certificate verify failed: unsuitable
    ///   certificate purpose`); `tlsFailed` otherwise, naming the side that refuses (`the client refuses the
    ///   server's certificate for '0.0.0.0': certificate verify failed: IP address mismatch`).
    public func checkTLSHandshake(with client: WebSocketClient.TLSOptions, host: String) throws(WebSocketError) {
        guard let serverContext = try makeTLSContext() else { return }
        let server = try TLSSession(context: serverContext, host: nil)
        let client = try TLSSession(context: try client.makeContext(), host: host)
        var bytes: [UInt8] = []
        // A TLS 1.3 handshake takes two flights each way and TLS 1.2 three; a few more rounds are spare.
        for _ in 0..<8 {
            if case .failed(let reason) = client.handshake() {
                throw WebSocketError(.tlsFailed, "the client refuses the server's certificate for '\(host)': \(reason)")
            }
            client.takeOutput(into: &bytes)
            guard bytes.withUnsafeBytes({ server.feed($0) }) else { break }
            bytes.removeAll(keepingCapacity: true)
            if case .failed(let reason) = server.handshake() {
                throw WebSocketError(
                    .tlsClientCertificateRefused,
                    "the server refuses the client's certificate: \(reason)"
                )
            }
            server.takeOutput(into: &bytes)
            guard bytes.withUnsafeBytes({ client.feed($0) }) else { break }
            bytes.removeAll(keepingCapacity: true)
            if client.isEstablished, server.isEstablished { return }
        }
        throw WebSocketError(.tlsFailed, "the TLS handshake with '\(host)' did not complete")
    }
}
