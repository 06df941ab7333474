import CalzinoServer
import NIOCore
import SOCKSCore

// Every wire reader on arbitrary bytes. Input: a selector byte, then the message bytes. Properties, beyond
// not crashing: a message that reads completely reads back equal from what our writer writes; every prefix
// of it reads as "need more bytes" and leaves the reader index where it was; a reader that fails or needs
// more bytes does not move the reader index.

struct Reader<Message: Equatable> {
    let read: (inout ByteBuffer) throws -> Message?
    let write: ((inout ByteBuffer, Message) -> Void)?
}

func check<Message: Equatable>(_ bytes: [UInt8], _ reader: Reader<Message>) {
    var buffer = ByteBuffer(bytes: bytes)
    let message: Message
    do {
        guard let read = try reader.read(&buffer) else {
            guard buffer.readerIndex == 0 else { fatalError("need-more-bytes moved the reader index") }
            return
        }
        message = read
    } catch {
        guard buffer.readerIndex == 0 else { fatalError("a reader that threw \(error) moved the reader index") }
        return
    }
    let length = buffer.readerIndex
    for prefix in 0..<length {
        var partial = ByteBuffer(bytes: bytes[..<prefix])
        let result: Message?
        do {
            result = try reader.read(&partial)
        } catch {
            fatalError("a prefix of \(prefix) bytes of a valid message threw \(error)")
        }
        guard result == nil, partial.readerIndex == 0 else {
            fatalError("a prefix of \(prefix) bytes of a \(length)-byte message did not ask for more bytes")
        }
    }
    guard let write = reader.write else { return }
    var written = ByteBuffer()
    write(&written, message)
    let again: Message?
    do {
        again = try reader.read(&written)
    } catch {
        fatalError("our own writing of \(message) does not read: \(error)")
    }
    guard again == message, written.readableBytes == 0 else {
        fatalError("round trip changed \(message) into \(String(describing: again))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessages(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let all = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let selector = all.first else { return 0 }
    let bytes = Array(all.dropFirst())
    switch selector % 10 {
    case 0: check(bytes, Reader(read: { try $0.readSOCKS4Request() }, write: { _ = $0.writeSOCKS4Request($1) }))
    case 1: check(bytes, Reader(read: { try $0.readSOCKS4Reply() }, write: { _ = $0.writeSOCKS4Reply($1) }))
    case 2: check(bytes, Reader(read: { try $0.readSOCKS5Greeting() }, write: { _ = $0.writeSOCKS5Greeting($1) }))
    case 3: check(bytes, Reader(read: { try $0.readSOCKS5MethodSelection() }, write: { _ = $0.writeSOCKS5MethodSelection($1) }))
    case 4: check(bytes, Reader(read: { try $0.readSOCKS5Request() }, write: { _ = $0.writeSOCKS5Request($1) }))
    case 5: check(bytes, Reader(read: { try $0.readSOCKS5Reply() }, write: { _ = $0.writeSOCKS5Reply($1) }))
    case 6: check(bytes, Reader(read: { try $0.readSOCKS5UsernamePasswordRequest() }, write: { _ = $0.writeSOCKS5UsernamePasswordRequest($1) }))
    case 7: check(bytes, Reader(read: { try $0.readSOCKS5UsernamePasswordResponse() }, write: { _ = $0.writeSOCKS5UsernamePasswordResponse($1) }))
    case 8: check(bytes, Reader(read: { try $0.readSOCKSUDPHeader() }, write: { _ = $0.writeSOCKSUDPHeader($1) }))
    default:
        // An RFC 1413 answer line: parsing must not trap, whatever the bytes.
        let line = Substring(decoding: bytes, as: UTF8.self)
        _ = IdentResponse.parse(line, clientPort: 4321, serverPort: 1080)
    }
    return 0
}
