import Foundation

/// Runs a real client (curl, ncat, python) with a time limit, collecting its output.
package struct ProcessResult {
    package var status: Int32
    package var stdout: Data
    package var stderr: String
    package var timedOut: Bool
}

package enum ProcessRunner {
    package static func run(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60, environment: [String: String]? = nil) async throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        // No pipe where there is nothing to feed: every pipe end the parent closes is one more descriptor
        // that a concurrent test could see reused.
        let input = stdin.map { _ in Pipe() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()
        // Read both pipes on their own threads so a chatty child cannot block on a full pipe. Threads of
        // their own, not Dispatch's: on Linux Dispatch's global queues and Swift's cooperative pool share
        // workers, and a few children blocking reads there stalled every async test for seconds.
        let outData = LockedData()
        let errData = LockedData()
        let readers = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            readers.enter()
            Thread {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                readers.leave()
            }.start()
        }
        // Feed standard input from another thread: a child that echoes while it reads would otherwise
        // fill its output pipe and stall against us.
        if let stdin, let inputHandle = input?.fileHandleForWriting {
            Thread {
                try? inputHandle.write(contentsOf: stdin)  // a child that exits early closes the pipe: EPIPE, not a trap
                try? inputHandle.close()
            }.start()
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                break
            }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        process.waitUntilExit()
        // The pipes close when the last process holding them exits (Chromium's helpers outlive it briefly):
        // wait for that without blocking a thread of Swift's cooperative pool.
        for _ in 0..<500 where readers.wait(timeout: .now()) == .timedOut {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return ProcessResult(
            status: process.terminationStatus,
            stdout: outData.get(),
            stderr: String(decoding: errData.get(), as: UTF8.self),
            timedOut: timedOut
        )
    }

    /// Whether a command is on the PATH (tests that need a missing client fail with a clear message).
    package static func exists(_ command: String) async -> Bool {
        (try? await run(["sh", "-c", "command -v \(command)"], timeout: 10).status) == 0
    }
}

package final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    package func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    package func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
