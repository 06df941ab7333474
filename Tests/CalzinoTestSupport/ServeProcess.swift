import Foundation

/// The `calzino` binary as a process, for the tests that run it as an operator does.
package enum ServeProcess {
    /// Starts `calzino serve` on 127.0.0.1 port 0 with `arguments` and reads the port it bound from its log
    /// (a port picked beforehand could be taken by another test in between). Its log goes to a file, never a
    /// pipe nobody reads, which would stall the server once full.
    /// With `descriptorLimit`, the server runs under `prlimit` with that hard limit, and that soft limit too
    /// unless `softDescriptorLimit` gives a lower one.
    package static func start(_ arguments: [String], descriptorLimit: Int? = nil, softDescriptorLimit: Int? = nil) async throws -> (process: Process, log: URL, port: Int) {
        let process = Process()
        let serve = ["serve", "--listen", "127.0.0.1:0"] + arguments
        if let limit = descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--nofile=\(softDescriptorLimit ?? limit):\(limit)", TestPaths.calzino] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: TestPaths.calzino)
            process.arguments = serve
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-serve-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<1000 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            // Text logs say `address=127.0.0.1:PORT`, JSON logs `"address":"127.0.0.1:PORT"`.
            if let range = text.range(of: "address=127.0.0.1:") ?? text.range(of: "\"address\":\"127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return (process, log, port) }
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        process.terminate()
        throw RawSocket.Failure(description: "calzino did not report a listening address")
    }

    /// Stops the server as an operator does (SIGTERM, then a kill after 10 s) and removes its log.
    package static func stop(_ server: Process, log: URL) async {
        kill(server.processIdentifier, SIGTERM)
        if !(await Self.waitForExit(server, seconds: 10)) { server.terminate() }
        try? FileManager.default.removeItem(at: log)
    }

    package static func waitForExit(_ process: Process, seconds: Int) async -> Bool {
        for _ in 0..<(seconds * 100) where process.isRunning {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return !process.isRunning
    }
}
