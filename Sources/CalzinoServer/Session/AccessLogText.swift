/// Client-supplied text (a destination name, a SOCKS4 USERID, an RFC 1929 user name, an identd answer, and
/// error texts that quote them) made safe for the one-line, space-separated access log: nothing a client
/// sends can end a line, start a forged field, or reach an operator's terminal as a control sequence.
///
/// Escaped: `\` and `"` (as `\\`, `\"`), newline, carriage return and tab (`\n`, `\r`, `\t`), other C0
/// controls and DEL (`\xHH`), and Unicode scalars that do not print or that reorder text (C1 controls,
/// format characters such as bidirectional overrides, line and paragraph separators, private use,
/// unassigned: `\u{HHHH}`). In a bare value (after `key=`) a space is escaped too (`\x20`), since it would
/// end the field, and so is every other space separator (U+00A0, U+3000...: `\u{HHHH}`), which would look
/// as if it did. Text with nothing to escape is returned as it is, without copying.
enum AccessLogText {
    /// For a value written bare after `key=`.
    static func bare(_ text: String) -> String {
        Self.escape(text, spaces: true)
    }

    /// For a value written inside double quotes.
    static func quoted(_ text: String) -> String {
        Self.escape(text, spaces: false)
    }

    private static func escape(_ text: String, spaces: Bool) -> String {
        let clean = text.utf8.allSatisfy { byte in
            (byte > 0x20 && byte < 0x7F && byte != 0x5C && byte != 0x22) || (byte == 0x20 && !spaces)
        }
        if clean {
            return text
        }
        var escaped = ""
        CommonEscapes.escape(text, into: &escaped) { scalar in
            if scalar == " " {
                return spaces ? "\\x20" : nil
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                return "\\x" + CommonEscapes.hex(scalar.value, digits: 2)
            }
            if scalar.value < 0x7F || (Self.prints(scalar) && !(spaces && scalar.properties.generalCategory == .spaceSeparator)) {
                return nil
            }
            return "\\u{" + CommonEscapes.hex(scalar.value, digits: 4) + "}"
        }
        return escaped
    }

    /// Whether a non-ASCII scalar is safe to show as it is.
    private static func prints(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return false
        default:
            return true
        }
    }
}
