import Testing

@testable import ClusterKit

@Suite struct WebSocketAPIURLTests {
    @Test(arguments: [
        ("127.0.0.1:2149", "ws://127.0.0.1:2149/v1/messages/json"),
        ("ws://127.0.0.1:2149", "ws://127.0.0.1:2149/v1/messages/json"),
        ("ws://127.0.0.1:2149/", "ws://127.0.0.1:2149/v1/messages/json"),
        ("ws://127.0.0.1:2149/v1/messages/json", "ws://127.0.0.1:2149/v1/messages/json"),
        ("WS://ctl.example:27759", "ws://ctl.example:27759/v1/messages/json"),
        ("[::1]:2149", "ws://[::1]:2149/v1/messages/json"),
        ("ws://[::1]:2149/other", "ws://[::1]:2149/other"),
        (" host:1 ", "ws://host:1/v1/messages/json"),
    ])
    func addressesBecomeFullURLs(address: String, url: String) throws {
        #expect(try WebSocketAPIServer.url(normalizing: address) == url)
    }

    @Test func aMissingPortTakesTheDefaultWhenThereIsOne() throws {
        #expect(
            try WebSocketAPIServer.url(normalizing: "ws://ctl", defaultPort: 2149) == "ws://ctl:2149/v1/messages/json"
        )
        #expect(try WebSocketAPIServer.url(normalizing: "[::1]", defaultPort: 1) == "ws://[::1]:1/v1/messages/json")
    }

    @Test(arguments: [
        ("http://h:1", "http://h:1: invalid WebSocket address: unsupported scheme 'http' (expected ws://HOST:PORT)"),
        ("wss://h:1", "wss://h:1: invalid WebSocket address: unsupported scheme 'wss' (expected ws://HOST:PORT)"),
        ("h", "h: invalid WebSocket address: no port (expected ws://HOST:PORT or HOST:PORT)"),
        (":1", ":1: invalid WebSocket address: no host (expected ws://HOST:PORT or HOST:PORT)"),
        ("h:0", "h:0: invalid WebSocket address: invalid port '0' (expected 1-65535)"),
        ("h:http", "h:http: invalid WebSocket address: invalid port 'http' (expected 1-65535)"),
        ("[::1:1", "[::1:1: invalid WebSocket address: missing ']' after the IPv6 address"),
    ])
    func badAddressesAreNamed(address: String, message: String) {
        #expect(throws: BackendError(.invalidState, String(message.dropFirst(address.count + 2)), endpoint: address)) {
            try WebSocketAPIServer.url(normalizing: address)
        }
    }
}
