@testable import CalzinoServer
import CalzinoTestSupport
import NIOCore
import Testing

/// Issue 12, defect 4: a reload is checked against the listeners that will run, not the ones the new file
/// names, and one that would make a running listener an open proxy is refused.
@Suite struct ReloadSafetyTests {
    private static let network = try! SocketAddress(ipAddress: "0.0.0.0", port: 1080)
    private static let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 1080)

    private static func server() throws -> CalzinoServer {
        var configuration = CalzinoServerConfiguration(listeners: [Self.network])
        configuration.users = UserStore(users: ["alice": try TestHashes.quick("pw")])
        // Not started: reload works on the configuration, so no test listener faces the network.
        return CalzinoServer(configuration: configuration)
    }

    @Test func aReloadThatWouldOpenTheProxyIsRefused() throws {
        let server = try Self.server()
        // The new file moved its listener to loopback and dropped its users: valid on its own, but the
        // network listener keeps running.
        let moved = CalzinoServerConfiguration(listeners: [Self.loopback])
        #expect(throws: CalzinoServerError.self) { try server.reload(moved) }
        #expect(server.configuration.users != nil, "the previous configuration stays in force")
        #expect(server.configuration.listeners == [Self.network])
        // The same listener without users: refused as well.
        #expect(throws: CalzinoServerError.self) { try server.reload(CalzinoServerConfiguration(listeners: [Self.network])) }
        #expect(server.configuration.users != nil)
    }

    @Test func aReloadThatKeepsTheListenerSafeIsTaken() throws {
        let server = try Self.server()
        var open = CalzinoServerConfiguration(listeners: [Self.loopback])
        open.allowOpenProxy = true
        try server.reload(open)
        #expect(server.configuration.users == nil && server.configuration.allowOpenProxy)
        #expect(server.configuration.listeners == [Self.network], "listeners stay as started")
    }
}
