/// What the text access line and JSON logs escape alike: backslash, double quote, newline, carriage return
/// and tab, each as its backslash form. Each format says how to write the rest (`other`: `nil` keeps the
/// character as it is).
enum CommonEscapes {
    static func escape(_ text: String, into escaped: inout String, other: (Unicode.Scalar) -> String?) {
        escaped.reserveCapacity(escaped.utf8.count + text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if let replacement = other(scalar) {
                    escaped += replacement
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// `value` in hexadecimal, upper case, padded with zeros to `digits`.
    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
