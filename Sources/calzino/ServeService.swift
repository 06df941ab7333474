import CalzinoAdmin
import CalzinoServer
import Glibc
import Logging
import ServiceLifecycle

/// `calzino serve` as one service, so that its order is explicit: bind the SOCKS listeners and the admin
/// listener (ports below 1024 need the privileges), drop the privileges, serve until graceful shutdown,
/// drain the server, and only then close the admin listener (which answers /readyz with 503 meanwhile).
/// Running inside the ServiceGroup, the shutdown signals are trapped before anything is bound.
struct ServeService: Service {
    let server: CalzinoServer
    let admin: AdminServer?
    /// The ids `PrivilegeDrop.check` resolved before anything was bound (`nil`: no switch).
    let uid: uid_t?
    let gid: gid_t?
    let logger: Logger

    func run() async throws {
        do {
            try await self.server.start()
            try await self.admin?.start()
            try PrivilegeDrop.perform(uid: self.uid, gid: self.gid)
            if self.uid != nil || self.gid != nil {
                self.logger.info("privileges dropped", metadata: ["uid": "\(getuid())", "gid": "\(getgid())"])
            }
        } catch {
            // Never serve with the privileges that were to be dropped: close everything at once.
            await self.server.shutdown()
            await self.admin?.stop()
            throw error
        }
        try? await gracefulShutdown()
        await self.server.shutdown()
        await self.admin?.stop()
    }
}
