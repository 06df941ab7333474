"""The job SOCKS exists for: a client on one network reaching hosts on another, with no route between them.

usage: netns_e2e.py wan-servers HOST           (run in the "wan" namespace)
       netns_e2e.py lan-client PROXY_HOST PROXY_PORT WAN_HOST PROXY_LAN_ADDRESS PROXY_WAN_ADDRESS
                                               (run in the "lan" namespace)

wan-servers runs a TCP echo on port 7000, a UDP echo on 7001, and on 7002 a helper that, told
"HOST PORT\n", connects there (playing the BIND peer) and echoes. lan-client checks that a direct connection
to the wan host fails, then CONNECT, BIND and UDP ASSOCIATE through the proxy, and prints one line per check.
"""
import os
import socket
import struct
import sys
import threading


def echo_tcp(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def serve_tcp(server, handler):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def bind_helper(conn):
    with conn:
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(100)
            if not chunk:
                return
            line += chunk
        host, port = line.decode().split()
        peer = socket.create_connection((host, int(port)), timeout=10)
        conn.sendall(b"connected\n")
        echo_tcp(peer)


def wan_servers(host):
    # Every port is bound before "ready" is printed: the script waits for that line.
    echo = socket.create_server((host, 7000))
    helper = socket.create_server((host, 7002))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((host, 7001))
    threading.Thread(target=serve_tcp, args=(echo, echo_tcp), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(helper, bind_helper), daemon=True).start()
    print("ready", flush=True)
    while True:
        data, source = udp.recvfrom(70000)
        udp.sendto(data, source)


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise RuntimeError(f"EOF after {len(data)} of {n} bytes")
        data += chunk
    return data


def socks5(proxy, command, host, port):
    s = socket.create_connection(proxy, timeout=10)
    s.sendall(b"\x05\x01\x00")
    assert recv_exact(s, 2) == b"\x05\x00"
    s.sendall(b"\x05" + bytes([command]) + b"\x00\x01" + socket.inet_aton(host) + struct.pack("!H", port))
    return s


def read_reply(s):
    head = recv_exact(s, 4)
    assert head[1] == 0, f"reply code {head[1]}"
    assert head[3] == 1, f"address type {head[3]}"
    address = socket.inet_ntoa(recv_exact(s, 4))
    (port,) = struct.unpack("!H", recv_exact(s, 2))
    return address, port


def lan_client(proxy_host, proxy_port, wan_host, proxy_lan, proxy_wan):
    proxy = (proxy_host, int(proxy_port))
    try:
        socket.create_connection((wan_host, 7000), timeout=3).close()
        print("FAIL direct connection to the wan host succeeded")
        return 1
    except OSError as error:
        print(f"ok direct connection fails: {error}")

    # Real routing failures reach the client as their reply codes: no route at all is "network unreachable"
    # (ENETUNREACH, 0x03); an "unreachable" route is "host unreachable" (EHOSTUNREACH, 0x04). Both addresses
    # exist only inside the proxy's namespace, which has no default route: nothing leaves the test's networks.
    for host, code, name in [("10.204.0.1", 3, "network unreachable"), ("10.203.0.1", 4, "host unreachable")]:
        f = socks5(proxy, 1, host, 80)
        head = recv_exact(f, 4)
        assert head[1] == code, f"CONNECT to {host}: reply {head[1]}, expected {code}"
        print(f"ok {code:#04x} {name} for {host}")
        f.close()

    s = socks5(proxy, 1, wan_host, 7000)
    read_reply(s)
    payload = os.urandom(100000)
    s.sendall(payload)
    assert recv_exact(s, len(payload)) == payload
    s.close()
    print("ok CONNECT echo through the proxy")

    b = socks5(proxy, 2, wan_host, 0)
    address, port = read_reply(b)
    assert address == proxy_wan, f"BIND listens on {address}, expected the wan-side address {proxy_wan}"
    helper = socks5(proxy, 1, wan_host, 7002)
    read_reply(helper)
    helper.sendall(f"{address} {port}\n".encode())
    assert recv_exact(helper, 10) == b"connected\n"
    peer_address, _ = read_reply(b)
    assert peer_address == wan_host, f"second reply names {peer_address}"
    b.sendall(b"through bind")
    assert recv_exact(b, 12) == b"through bind"
    print(f"ok BIND on {address}:{port}, peer {peer_address} connected back and echoed")

    # The request names the port the datagrams will come from (the server's default, udp-client-port: declared).
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(5)
    udp.bind(("0.0.0.0", 0))
    control = socks5(proxy, 3, "0.0.0.0", udp.getsockname()[1])
    relay_address, relay_port = read_reply(control)
    assert relay_address == proxy_lan, f"UDP relay advertised as {relay_address}, expected {proxy_lan}"
    datagram = b"\x00\x00\x00\x01" + socket.inet_aton(wan_host) + struct.pack("!H", 7001) + b"udp across"
    udp.sendto(datagram, (relay_address, relay_port))
    data, _ = udp.recvfrom(70000)
    assert data[10:] == b"udp across" and data[4:8] == socket.inet_aton(wan_host)
    print(f"ok UDP through the relay advertised at {relay_address}:{relay_port}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "wan-servers":
        wan_servers(sys.argv[2])
    else:
        sys.exit(lan_client(*sys.argv[2:7]))
