@testable import CalzinoConfiguration
import CalzinoServer

// The configuration file parser (YAML, then every key, the rules among them) on arbitrary text. It must
// not trap: a bad file is a ConfigurationFileError naming the file, a line of it (0: the file as a whole)
// and a problem. A file that parses and names no users file goes on to validation, whose errors also say
// what is wrong, and to check-config's report, which must read back as the same configuration (described
// again, the same text) when it holds no users (their hashes are never printed).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let lineCount = ServeOptions.lineCount(of: text)
    let options: ServeOptions
    do {
        options = try ServeOptions.parse(text, file: "fuzz.yaml")
    } catch let error as ConfigurationFileError {
        guard error.file == "fuzz.yaml", (0...lineCount).contains(error.line), !error.problem.isEmpty else {
            fatalError("an error without its place or its problem: \(error) (\(lineCount) lines)")
        }
        return 0
    } catch {
        fatalError("a configuration error that is not a ConfigurationFileError: \(error)")
    }
    guard options.usersFile == nil else { return 0 }  // never read files the input names
    let configuration: CalzinoServerConfiguration
    do {
        configuration = try options.makeConfiguration()
    } catch let error as ConfigurationFileError {
        guard error.file == "fuzz.yaml", (1...max(lineCount, 1)).contains(error.line), !error.problem.isEmpty else {
            fatalError("a validation error without its place or its problem: \(error)")
        }
        return 0
    } catch let error as ConfigurationValueError {
        guard !error.problem.isEmpty else { fatalError("a validation error without its problem: \(error)") }
        return 0
    } catch {
        fatalError("a validation error of an unexpected kind: \(error)")
    }
    let report = EffectiveConfiguration.describe(options, configuration)
    guard configuration.users == nil else { return 0 }
    do {
        let again = try ServeOptions.parse(report, file: "report.yaml")
        let reportAgain = EffectiveConfiguration.describe(again, try again.makeConfiguration())
        guard reportAgain == report else { fatalError("the report does not read back the same:\n\(report)\n---\n\(reportAgain)") }
    } catch {
        fatalError("the report does not read back: \(error)\n\(report)")
    }
    return 0
}
