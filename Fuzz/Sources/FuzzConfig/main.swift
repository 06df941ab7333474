import CalzinoConfiguration
import CalzinoServer

// The configuration file parser (YAML, then every key, the rules among them) on arbitrary text. It must
// not trap: a bad file is a ConfigurationFileError naming a line. A file that parses and names no users
// file goes on to validation and to check-config's report.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let options: ServeOptions
    do {
        options = try ServeOptions.parse(text, file: "fuzz.yaml")
    } catch let error as ConfigurationFileError {
        guard error.file == "fuzz.yaml", error.line >= 0 else { fatalError("error without its place: \(error)") }
        return 0
    } catch {
        fatalError("a configuration error that is not a ConfigurationFileError: \(error)")
    }
    guard options.usersFile == nil else { return 0 }  // never read files the input names
    if let configuration = try? options.makeConfiguration() {
        _ = EffectiveConfiguration.describe(options, configuration)
    }
    return 0
}
