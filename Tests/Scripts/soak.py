"""Soak: drives mixed load through a running calzino for a set time, then checks that nothing leaked.

usage: soak.py CALZINO_BINARY SECONDS [WORKERS]

Starts its own targets on loopback (TCP echo, TCP source, UDP echo), a users file with one user, and
`calzino serve` on 127.0.0.1 with that users file. WORKERS threads (default 12) loop over weighted
scenarios until SECONDS pass:

  short    CONNECT, 64 bytes to the echo target and back
  bulk     CONNECT to the source target, 256 KiB to 4 MiB of a known pattern, checked byte for byte
  upload   CONNECT to the echo target, 1 MiB in 64 KiB steps, each step echoed and checked
  bind     SOCKS5 BIND for any peer, a peer connects, bytes both ways
  udp      UDP ASSOCIATE, 20 datagrams to the UDP echo target, each answered (loss is counted, not failed)
  authfail a wrong password: must get status 0x01 and a close
  reset    CONNECT to the source target, read a little, then reset (SO_LINGER 0)

Afterwards: no session that should have succeeded failed; bytes delivered equal bytes sent; the server's
resident memory after the load is within 5% (or 2 MiB) of its level after warm-up (the first 10% of the
run); its descriptors are back to the count before the load; its log holds no warning or error but the
expected kinds. Prints a report and exits non-zero if a check fails.
"""
import hashlib
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BINARY, SECONDS = sys.argv[1], float(sys.argv[2])
WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 12
USER, PASSWORD = b"soak", b"soak-password"
PATTERN = bytes((i * 131 + 7) & 0xFF for i in range(1 << 16))


def pattern(offset, count):
    out = bytearray()
    while count > 0:
        start = offset % len(PATTERN)
        piece = PATTERN[start:start + count]
        out += piece
        offset += len(piece)
        count -= len(piece)
    return bytes(out)


# --- targets -------------------------------------------------------------------------------------------

def serve_tcp(handler):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)

    def accept_loop():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(connection,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return listener.getsockname()[1]


def echo_handler(connection):
    with connection:
        try:
            while True:
                data = connection.recv(1 << 16)
                if not data:
                    return
                connection.sendall(data)
        except OSError:
            return


def source_handler(connection):
    """Reads an 8-byte length, sends that many pattern bytes, closes."""
    with connection:
        try:
            header = b""
            while len(header) < 8:
                more = connection.recv(8 - len(header))
                if not more:
                    return
                header += more
            (count,) = struct.unpack("!Q", header)
            sent = 0
            while sent < count:
                piece = pattern(sent, min(1 << 16, count - sent))
                connection.sendall(piece)
                sent += len(piece)
        except OSError:
            return


def serve_udp_echo():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))

    def loop():
        while True:
            data, address = server.recvfrom(65536)
            server.sendto(data, address)

    threading.Thread(target=loop, daemon=True).start()
    return server.getsockname()[1]


# --- SOCKS5 client -------------------------------------------------------------------------------------

class Refused(Exception):
    pass


def recv_exactly(sock, count):
    data = b""
    while len(data) < count:
        more = sock.recv(count - len(data))
        if not more:
            raise Refused("EOF after %d of %d bytes" % (len(data), count))
        data += more
    return data


def handshake(proxy_port, password=PASSWORD):
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"\x05\x01\x02")
    if recv_exactly(sock, 2) != b"\x05\x02":
        raise Refused("method")
    sock.sendall(bytes([1, len(USER)]) + USER + bytes([len(password)]) + password)
    status = recv_exactly(sock, 2)
    if status != b"\x01\x00":
        raise Refused("auth status %r" % status)
    return sock


def read_reply(sock):
    head = recv_exactly(sock, 4)
    if head[1] != 0:
        raise Refused("reply 0x%02x" % head[1])
    length = {1: 4, 4: 16}.get(head[3])
    if length is None:
        length = recv_exactly(sock, 1)[0]
    rest = recv_exactly(sock, length + 2)
    return rest[:-2], struct.unpack("!H", rest[-2:])[0]


def request(sock, command, host, port):
    sock.sendall(bytes([5, command, 0, 1]) + socket.inet_aton(host) + struct.pack("!H", port))
    return read_reply(sock)


def connect(proxy_port, port):
    sock = handshake(proxy_port)
    request(sock, 1, "127.0.0.1", port)
    return sock


# --- scenarios -----------------------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.failed = {}
        self.bytes = 0
        self.udp_sent = 0
        self.udp_received = 0
        self.failures = []

    def record(self, name, ok, detail="", count=0):
        with self.lock:
            table = self.ok if ok else self.failed
            table[name] = table.get(name, 0) + 1
            self.bytes += count
            if not ok and len(self.failures) < 20:
                self.failures.append("%s: %s" % (name, detail))


def scenario_short(ports):
    sock = connect(ports["proxy"], ports["echo"])
    with sock:
        payload = os.urandom(64)
        sock.sendall(payload)
        if recv_exactly(sock, 64) != payload:
            raise Refused("echo differs")
    return 128


def scenario_bulk(ports):
    size = random.randint(256 << 10, 4 << 20)
    sock = connect(ports["proxy"], ports["source"])
    with sock:
        sock.sendall(struct.pack("!Q", size))
        received = 0
        while True:
            data = sock.recv(1 << 18)
            if not data:
                break
            if data != pattern(received, len(data)):
                raise Refused("pattern differs at %d" % received)
            received += len(data)
        if received != size:
            raise Refused("received %d of %d" % (received, size))
    return size


def scenario_upload(ports):
    sock = connect(ports["proxy"], ports["echo"])
    with sock:
        for step in range(16):
            piece = os.urandom(64 << 10)
            sock.sendall(piece)
            if recv_exactly(sock, len(piece)) != piece:
                raise Refused("echo differs at step %d" % step)
    return 2 << 20


def scenario_bind(ports):
    sock = handshake(ports["proxy"])
    with sock:
        address, port = request(sock, 2, "0.0.0.0", 0)
        peer = socket.create_connection((socket.inet_ntoa(address), port), timeout=30)
        with peer:
            read_reply(sock)
            peer.sendall(b"from peer")
            if recv_exactly(sock, 9) != b"from peer":
                raise Refused("peer bytes")
            sock.sendall(b"from client")
            if recv_exactly(peer, 11) != b"from client":
                raise Refused("client bytes")
    return 20


def scenario_udp(ports, stats):
    control = handshake(ports["proxy"])
    with control:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(2)
        with udp:
            control.sendall(b"\x05\x03\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", udp.getsockname()[1]))
            address, port = read_reply(control)
            relay = (socket.inet_ntoa(address), port)
            header = b"\x00\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", ports["udp"])
            answered = 0
            for index in range(20):
                payload = struct.pack("!I", index) + os.urandom(60)
                udp.sendto(header + payload, relay)
                try:
                    data, _ = udp.recvfrom(65536)
                    if data[10:] == payload:
                        answered += 1
                except socket.timeout:
                    pass
            with stats.lock:
                stats.udp_sent += 20
                stats.udp_received += answered
            if answered == 0:
                raise Refused("no datagram answered")
    return answered * 64


def scenario_authfail(ports):
    try:
        handshake(ports["proxy"], password=b"wrong")
    except Refused as refusal:
        if "auth status b'\\x01\\x01'" in str(refusal):
            return 0
        raise
    raise Refused("a wrong password was accepted")


def scenario_reset(ports):
    sock = connect(ports["proxy"], ports["source"])
    sock.sendall(struct.pack("!Q", 64 << 20))
    recv_exactly(sock, 100_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return 0


SCENARIOS = [
    ("short", 30, scenario_short),
    ("bulk", 10, scenario_bulk),
    ("upload", 6, scenario_upload),
    ("bind", 6, scenario_bind),
    ("udp", 6, None),
    ("authfail", 4, scenario_authfail),
    ("reset", 4, scenario_reset),
]


def worker(ports, stats, deadline):
    names = [name for name, weight, _ in SCENARIOS for _ in range(weight)]
    table = {name: run for name, _, run in SCENARIOS}
    while time.time() < deadline:
        name = random.choice(names)
        try:
            count = scenario_udp(ports, stats) if name == "udp" else table[name](ports)
            stats.record(name, True, count=count)
        except Exception as error:  # every failure is reported, none is expected
            stats.record(name, False, detail=repr(error))


# --- the server, measured ------------------------------------------------------------------------------

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main():
    workdir = tempfile.mkdtemp(prefix="calzino-soak-")
    salt = os.urandom(16)
    key = hashlib.scrypt(PASSWORD, salt=salt, n=1024, r=8, p=1, dklen=32)
    users = os.path.join(workdir, "users.txt")
    with open(users, "w") as handle:
        handle.write("%s:scrypt$1024$8$1$%s$%s\n" % (USER.decode(), salt.hex(), key.hex()))
    ports = {"echo": serve_tcp(echo_handler), "source": serve_tcp(source_handler), "udp": serve_udp_echo()}
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    ports["proxy"] = probe.getsockname()[1]
    probe.close()
    log_path = os.path.join(workdir, "serve.log")
    log = open(log_path, "w")
    server = subprocess.Popen(
        [BINARY, "serve", "--listen", "127.0.0.1:%d" % ports["proxy"], "--users", users, "--idle-timeout", "5m"],
        stderr=log,
    )
    for _ in range(500):
        time.sleep(0.02)
        try:
            socket.create_connection(("127.0.0.1", ports["proxy"]), timeout=1).close()
            break
        except OSError:
            continue
    baseline_fds = descriptors(server.pid)
    stats = Stats()
    started = time.time()
    warmup = max(5.0, SECONDS * 0.1)
    deadline = started + SECONDS
    threads = [threading.Thread(target=worker, args=(ports, stats, deadline)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    warm_rss = rss_kib(server.pid)
    peak_rss = warm_rss
    samples = [(warmup, warm_rss)]
    while time.time() < deadline:
        time.sleep(1)
        now = rss_kib(server.pid)
        peak_rss = max(peak_rss, now)
        samples.append((time.time() - started, now))
    for thread in threads:
        thread.join()
    # Let closes and lingering failure replies (2 s) finish.
    settled_fds = descriptors(server.pid)
    for _ in range(100):
        settled_fds = descriptors(server.pid)
        if settled_fds <= baseline_fds:
            break
        time.sleep(0.1)
    time.sleep(1)
    end_rss = rss_kib(server.pid)
    server.terminate()
    server.wait(timeout=60)
    log.close()

    with open(log_path) as handle:
        lines = handle.read().splitlines()
    access = [line for line in lines if "calzino.access" in line]
    unexpected = [line for line in lines if (" warning " in line or " error " in line or " critical " in line)]
    elapsed = time.time() - started
    sessions_ok = sum(stats.ok.values())
    sessions_failed = sum(stats.failed.values())
    memory_ok = end_rss <= warm_rss * 1.05 or end_rss - warm_rss <= 2048
    checks = {
        "no failed session": sessions_failed == 0,
        "descriptors back to baseline": settled_fds <= baseline_fds,
        "memory back within 5% (or 2 MiB) of warm-up": memory_ok,
        "no unexpected warning or error lines": not unexpected,
        "an access line per session": len(access) >= sessions_ok,
    }
    print("soak: %.0f s, %d workers, %d sessions ok, %d failed" % (elapsed, WORKERS, sessions_ok, sessions_failed))
    print("  per scenario ok: %s" % ", ".join("%s %d" % item for item in sorted(stats.ok.items())))
    if stats.failed:
        print("  per scenario failed: %s" % ", ".join("%s %d" % item for item in sorted(stats.failed.items())))
        for failure in stats.failures:
            print("    " + failure)
    print("  bytes verified end to end: %d (%.1f MiB)" % (stats.bytes, stats.bytes / 1048576))
    print("  udp datagrams answered: %d of %d" % (stats.udp_received, stats.udp_sent))
    print("  server RSS: %d KiB after warm-up (%.0f s), %d KiB peak, %d KiB at the end" % (warm_rss, warmup, peak_rss, end_rss))
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in range(1, 5)]
    print("  server RSS under load: %s" % ", ".join("%.0f s %d KiB" % sample for sample in quarters))
    print("  server descriptors: %d before, %d after" % (baseline_fds, settled_fds))
    print("  access lines: %d; unexpected warning/error lines: %d" % (len(access), len(unexpected)))
    for line in unexpected[:5]:
        print("    " + line)
    for name, ok in checks.items():
        print("  [%s] %s" % ("ok" if ok else "FAILED", name))
    sys.exit(0 if all(checks.values()) else 1)


main()
