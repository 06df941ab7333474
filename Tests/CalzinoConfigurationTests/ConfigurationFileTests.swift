import CalzinoPolicy
import CalzinoConfiguration
import CalzinoServer
import NIOCore
import SOCKSCore
import Foundation
import CalzinoTestSupport
import Testing

@Suite struct ConfigurationFileTests {
    static let hash = "scrypt$16384$8$1$00112233445566778899aabbccddeeff$" + String(repeating: "ab", count: 32)

    static let full = """
        # A LAN proxy with users and rules.
        listen:
          - 127.0.0.1:1080
          - {address: "[::1]:1081", name: lan}
          - {address: "[::1]:1082", optional: true}
        log-level: debug
        log-format: json
        threads: 2
        users-file: more-users
        users:
          alice: "\(hash)"
          bob: "\(hash)"
        groups:
          staff: [alice, bob]
        allow-open-proxy: false
        allow-private-destinations: true
        timeouts: {handshake: 5s, connect: 3s, bind: 30s, idle: 10m, udp-idle: 0, drain: 1m, ident: 2s}
        udp-advertise: 192.0.2.1
        udp-client-port: first
        udp-replies: any
        ident: optional
        ident-port: 1113
        limits:
          max-connections: 300
          max-sessions: 500
          sessions-per-client: 20
          sessions-per-user: 10
          handshakes-per-client-per-second: 50
          bandwidth-per-session: {up: 1MiB, down: 10MB}
          bandwidth-per-user: {down: 512KiB}
          client-ipv6-prefix: 56
        admin: {address: "127.0.0.1:9180", token-file: admin-token}
        user: nobody
        group: nogroup
        default-action: deny
        rules:
          - name: no-smtp
            action: deny
            to-ports: [25, 465, 587]
          - name: staff-web
            action: allow
            listeners: [lan]
            clients: [127.0.0.0/8, "::1"]
            groups: [staff]
            users: [carol]
            versions: [socks5]
            commands: [connect, udp]
            to-names: ["*.example.com", intranet]
            to-addresses: [10.0.0.0/8, private]
            to-ports: [80, 443, 8000-8999]
            timeouts: {connect: 2s, idle: 5m}
            bandwidth: {up: 64KiB}
            bandwidth-per-user: {down: 2MiB}
        """

    /// `full` with the users file it names, in a directory of its own; returns the file's path.
    static func writeFull() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-full-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.full.write(to: directory.appendingPathComponent("full.yaml"), atomically: true, encoding: .utf8)
        try "# another team\ncarol:\(Self.hash)\n".write(to: directory.appendingPathComponent("more-users"), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent("full.yaml").path
    }

    /// Every key of the file reaches the configuration (the table's keys: `ConfigurationKey.topLevel`).
    @Test func everyKeyOfAFullFile() throws {
        let path = try Self.writeFull()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let directory = (path as NSString).deletingLastPathComponent
        let options = try ServeOptions.load(path: path)
        let configuration = try options.makeConfiguration()
        #expect(configuration.listeners.count == 2)
        #expect(configuration.optionalListeners == [try SocketAddress(ipAddress: "::1", port: 1082)])
        #expect(configuration.listenerName(try SocketAddress(ipAddress: "::1", port: 1081)) == "lan")
        #expect(configuration.listenerName(try SocketAddress(ipAddress: "127.0.0.1", port: 1080)) == "127.0.0.1:1080")
        #expect(options.logLevel == "debug" && options.threads == 2)
        #expect(options.logFormat == .json && configuration.logFormat == .json)
        #expect(configuration.users?.names == ["alice", "bob", "carol"], "inline users and the users file's")
        #expect(options.usersFile == "\(directory)/more-users", "relative to the file")
        #expect(configuration.allowPrivateDestinations && !configuration.allowOpenProxy)
        #expect(configuration.timeouts == Timeouts(handshake: .seconds(5), connect: .seconds(3), bind: .seconds(30), idle: .minutes(10), udpIdle: .zero, drain: .minutes(1), ident: .seconds(2)))
        #expect(configuration.timeouts.udpIdleLimit == nil, "0 disables the UDP idle timeout")
        #expect(configuration.ident == .optional && configuration.identPort == 1113)
        #expect(configuration.udpAdvertise?.ipAddress == "192.0.2.1")
        #expect(configuration.udpClientPort == .first && configuration.udpReplies == .any)
        #expect(configuration.limits == Limits(
            maxConnections: 300, maxSessions: 500, sessionsPerClient: 20, sessionsPerUser: 10, handshakesPerClientPerSecond: 50,
            bandwidthPerSession: Bandwidth(up: 1 << 20, down: 10_000_000), bandwidthPerUser: Bandwidth(down: 512 << 10),
            clientIPv6Prefix: 56
        ))
        #expect(options.admin?.address == (try SocketAddress(ipAddress: "127.0.0.1", port: 9180)))
        #expect(options.admin?.tokenFile == "\(directory)/admin-token", "relative to the file")
        #expect(options.user == "nobody" && options.group == "nogroup")
        #expect(configuration.rules.defaultAction == .deny)
        let rules = configuration.rules.rules
        #expect(rules.map(\.name) == ["no-smtp", "staff-web"])
        let staff = rules[1]
        #expect(staff.action == .allow && staff.listeners == ["lan"])
        #expect(staff.clients?.map(\.description) == ["127.0.0.0/8", "::1"])
        #expect(staff.users == ["alice", "bob", "carol"], "groups expand into users")
        #expect(staff.versions == [.socks5] && staff.commands == [.connect, .udp])
        #expect(staff.destinationNames?.map(\.description) == ["*.example.com", "intranet"])
        #expect(staff.destinationAddresses?.map(\.description) == ["10.0.0.0/8", "private"])
        #expect(staff.destinationPorts?.map(\.description) == ["80", "443", "8000-8999"])
        #expect(staff.overrides == RuleOverrides(
            timeouts: [.connect: .seconds(2), .idle: .minutes(5)],
            limits: Limits(bandwidthPerSession: Bandwidth(up: 64 << 10), bandwidthPerUser: Bandwidth(down: 2 << 20))
        ))
        let report = EffectiveConfiguration.describe(options, configuration)
        #expect(report.contains("# users: alice, bob, carol"), "users by name")
        #expect(!report.contains("scrypt"), "never a hash")
    }

    /// check-config's report, read back as a configuration file, describes the same configuration: every key
    /// the report writes survives. The one thing it cannot carry is the users' hashes (it lists users by name
    /// in a comment), so the users line is left out of the comparison.
    @Test func theReportOfAFullFileReadsBackTheSame() throws {
        let path = try Self.writeFull()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let options = try ServeOptions.load(path: path)
        let report = EffectiveConfiguration.describe(options, try options.makeConfiguration())
        let again = try ServeOptions.parse(report, file: "report.yaml")
        let reportAgain = EffectiveConfiguration.describe(again, try again.makeConfiguration())
        let withoutUsers = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("# users:") } }
        #expect(withoutUsers(reportAgain) == withoutUsers(report), "\(report)\n---\n\(reportAgain)")
        // A key the report left out would be left out twice: compare what it configures, too.
        let first = try options.makeConfiguration(), second = try again.makeConfiguration()
        #expect(second.listeners == first.listeners && second.optionalListeners == first.optionalListeners)
        #expect(second.listenerNames == first.listenerNames)
        #expect(second.timeouts == first.timeouts && second.limits == first.limits)
        #expect(second.udpAdvertise == first.udpAdvertise && second.udpClientPort == first.udpClientPort && second.udpReplies == first.udpReplies)
        #expect(second.ident == first.ident && second.identPort == first.identPort)
        #expect(second.allowOpenProxy == first.allowOpenProxy && second.allowPrivateDestinations == first.allowPrivateDestinations)
        #expect(second.logFormat == first.logFormat && again.logLevel == options.logLevel && again.threads == options.threads)
        #expect(again.admin?.address == options.admin?.address && again.admin?.tokenFile == options.admin?.tokenFile)
        #expect(again.user == options.user && again.group == options.group)
        #expect(second.rules.defaultAction == first.rules.defaultAction)
        #expect(second.rules.rules == first.rules.rules, "every rule reads back the same")
    }

    /// The default's optional `[::1]` listener stays optional through the report (it was written as a
    /// comment, and read back as a listener that must bind).
    @Test func theDefaultReportReadsBackTheSame() throws {
        let options = try ServeOptions.parse("# nothing\n", file: "empty.yaml")
        let configuration = try options.makeConfiguration()
        let report = EffectiveConfiguration.describe(options, configuration)
        let again = try ServeOptions.parse(report, file: "report.yaml")
        let configurationAgain = try again.makeConfiguration()
        #expect(configurationAgain.listeners == configuration.listeners)
        #expect(configurationAgain.optionalListeners == configuration.optionalListeners)
        #expect(again.threads == nil, "the per-core default stays a default")
        #expect(EffectiveConfiguration.describe(again, configurationAgain) == report)
    }

    /// The example files in the repository are valid, and say what they are for.
    @Test(arguments: ["laptop", "lan", "bastion"])
    func examplesAreValid(name: String) throws {
        let options = try ServeOptions.load(path: TestPaths.packageRoot.appendingPathComponent("examples/\(name).yaml").path)
        let configuration = try options.makeConfiguration()
        #expect(!configuration.listeners.isEmpty)
        if name != "laptop" {
            #expect(configuration.users?.names == ["alice", "bob"], "the example users file is found beside the file")
            #expect(!configuration.rules.rules.isEmpty)
        }
    }

    @Test func anEmptyFileIsTheDefault() throws {
        let configuration = try ServeOptions.parse("# nothing\n", file: "empty.yaml").makeConfiguration()
        #expect(configuration.listeners.map(\.port) == [1080])
        #expect(configuration.rules.isEmpty && configuration.users == nil)
    }

    /// check-config's report is itself a configuration file that reads back to the same rules, a rule's
    /// zero (disabling) idle timeout included.
    @Test func theReportReadsBack() throws {
        let text = "timeouts: {udp-idle: 0}\nrules:\n  - {name: quiet, action: allow, timeouts: {idle: 0, connect: 2s}, bandwidth: {up: 1MiB}}\n"
        let options = try ServeOptions.parse(text, file: "f.yaml")
        let report = EffectiveConfiguration.describe(options, try options.makeConfiguration())
        #expect(report.contains("udp-idle: 0  # disabled"), "\(report)")
        let again = try ServeOptions.parse(report, file: "report.yaml")
        #expect(again.rules.first?.overrides == options.rules.first?.overrides)
        #expect(try again.makeConfiguration().timeouts == options.makeConfiguration().timeouts)
        #expect(try again.makeConfiguration().limits == options.makeConfiguration().limits)
    }

    /// Found by FuzzConfig (seed `regression-yaml-error-past-the-last-line`): the YAML parser places a problem
    /// at the end of a file without a final newline on a line the file does not have.
    @Test func aYAMLErrorAtTheEndNamesTheLastLine() throws {
        let error = try #require(throws: ConfigurationFileError.self) { try ServeOptions.parse("listen: [126.0.sten: [126.0.0sp", file: "f.yaml") }
        #expect(error.line == 1)
        #expect(error.problem.hasPrefix("not valid YAML: at the end of the file"), "\(error)")
    }

    /// Found by FuzzConfig (seed `regression-unnamed-rule-in-the-report`): an unnamed rule's name is its
    /// position, `#2`, which the report wrote as a name that no file may use, so the report did not read back.
    @Test func anUnnamedRuleReadsBackUnnamed() throws {
        let options = try ServeOptions.parse("rules:\n  - {name: first, action: deny, to-ports: [25]}\n  - {action: allow}\n", file: "f.yaml")
        let report = EffectiveConfiguration.describe(options, try options.makeConfiguration())
        let again = try ServeOptions.parse(report, file: "report.yaml")
        #expect(again.rules.map(\.name) == ["first", "#2"])
        #expect(EffectiveConfiguration.describe(again, try again.makeConfiguration()) == report)
    }

    /// Rules may name listeners and groups written after them.
    @Test func referencesResolveWhateverTheOrderOfKeys() throws {
        let text = "rules:\n  - {action: allow, listeners: [lan], groups: [staff]}\nlisten:\n  - {address: \"127.0.0.1:1\", name: lan}\ngroups: {staff: [alice]}\n"
        let rules = try ServeOptions.parse(text, file: "f.yaml").rules
        #expect(rules.first?.listeners == ["lan"] && rules.first?.users == ["alice"])
    }

    @Test func flagsOverrideTheFile() throws {
        let file = try ServeOptions.parse("timeouts: {connect: 3s, idle: 1m}\nlisten: [127.0.0.1:2000]\n", file: "f.yaml")
        var flags = ServeOptions()
        flags.timeouts[.connect] = .seconds(7)
        let merged = try file.merging(flags).makeConfiguration()
        #expect(merged.timeouts.connect == .seconds(7))
        #expect(merged.timeouts.idle == .minutes(1))
        #expect(merged.listeners.map(\.port) == [2000])
    }

    /// Every kind of mistake names the file, the line and what is wrong.
    @Test(arguments: [
        ("listen: [127.0.0.1:1080\n", 2, "not valid YAML"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("colour: blue\n", 1, "unknown key 'colour'"),
        ("threads: 2\nthreads: 3\n", 2, "'threads' appears twice"),
        ("rules:\n  - action: allow\n    to-ports: [1]\n    to-ports: [2]\n", 4, "'to-ports' appears twice"),
        ("threads: 0\n", 1, "threads: '0' is not a whole number from 1 to 256"),
        ("threads: 99999999999999999999999\n", 1, "is not a whole number"),
        ("log-level: loud\n", 1, "is not one of trace"),
        ("listen:\n  - nowhere\n", 2, "expected HOST:PORT"),
        ("listen:\n  - {name: x}\n", 2, "a listener needs an address"),
        ("listen:\n  - {address: \"127.0.0.1:1\", name: \"a b\"}\n", 2, "is not a name"),
        ("timeouts:\n  connect: forever\n", 2, "timeouts.connect: 'forever'"),
        ("timeouts:\n  linger: 5s\n", 2, "unknown key 'timeouts.linger'"),
        ("allow-open-proxy: yes please\n", 1, "is not true or false"),
        ("udp-advertise: somewhere\n", 1, "is not an IP address"),
        ("ident: sometimes\n", 1, "is not one of off, optional, required"),
        ("udp-client-port: any\n", 1, "is not one of declared, first"),
        ("udp-replies: some\n", 1, "is not one of sent-to, any"),
        ("limits:\n  bandwidth-per-session: {up: fast}\n", 2, "expected a rate"),
        ("limits:\n  bandwidth-per-session: {up: 10}\n", 2, "from 1KiB"),
        ("limits:\n  sessions-per-client: -1\n", 2, "is not a whole number"),
        ("limits:\n  client-ipv6-prefix: 129\n", 2, "129"),
        ("users:\n  alice: nothash\n", 2, "users.alice"),
        ("default-action: maybe\n", 1, "is not one of allow, deny"),
        ("rules:\n  - to-ports: [80]\n", 2, "a rule needs an action"),
        ("rules:\n  - action: allow\n    to-ports: [80-70]\n", 3, "'80-70' is not a port or a range"),
        ("rules:\n  - action: allow\n    to-ports: [70000]\n", 3, "is not a port"),
        ("rules:\n  - action: allow\n    clients: [10.0.0.0/40]\n", 3, "is not a CIDR block"),
        ("rules:\n  - action: allow\n    to-addresses: [privat]\n", 3, "is not a CIDR block or address set"),
        ("rules:\n  - action: allow\n    to-names: [\"*\"]\n", 3, "is not a name or *.domain"),
        ("rules:\n  - action: allow\n    versions: [socks6]\n", 3, "is not socks4, socks4a or socks5"),
        ("rules:\n  - action: allow\n    commands: [listen]\n", 3, "is not connect, bind or udp"),
        ("rules:\n  - action: allow\n    groups: [staff]\n", 3, "no group 'staff'"),
        ("rules:\n  - action: allow\n    colour: red\n", 3, "unknown key 'rules[1].colour'"),
        ("rules:\n  - {name: a, action: allow}\n  - {name: a, action: deny}\n", 3, "rule name 'a' is used twice"),
        ("listen: [127.0.0.1:1]\nrules:\n  - action: allow\n    listeners: [wan]\n", 4, "no listener is named or listens on 'wan'"),
        // References are checked once the whole file is read, whatever the order of its keys.
        ("rules:\n  - action: allow\n    listeners: [wan]\nlisten: [127.0.0.1:1]\n", 3, "no listener is named or listens on 'wan'"),
        ("rules:\n  - action: allow\n    groups: [staff]\ngroups: {admins: [alice]}\n", 3, "no group 'staff'"),
        ("rules:\n  - action: allow\n    timeouts: {handshake: 1s}\n", 3, "unknown key 'rules[1].timeouts.handshake'"),
        ("listen: [\"0.0.0.0:1080\"]\n", 1, "would be an open proxy"),
        ("users-file: /nonexistent/users.txt\n", 1, "users-file: /nonexistent/users.txt: cannot be read"),
    ])
    func mistakesNameTheLine(text: String, line: Int, problem: String) throws {
        do {
            _ = try ServeOptions.parse(text, file: "bad.yaml").makeConfiguration()
            Issue.record("accepted: \(text)")
        } catch let error as ConfigurationFileError {
            #expect(error.file == "bad.yaml")
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(problem), "\(error)")
        }
    }
}
