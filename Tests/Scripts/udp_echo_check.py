"""Sends datagrams through calzino's UDP ASSOCIATE with PySocks to a UDP echo target and checks them.

usage: udp_echo_check.py PROXY_PORT ECHO_PORT
"""
import os
import socket
import sys

import socks

proxy_port, echo_port = int(sys.argv[1]), int(sys.argv[2])
s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
s.set_proxy(socks.SOCKS5, "127.0.0.1", proxy_port)
s.settimeout(5)
s.bind(("127.0.0.1", 0))
for size in (1, 1000, 8192):
    payload = os.urandom(size)
    s.sendto(payload, ("127.0.0.1", echo_port))
    data, source = s.recvfrom(70000)
    if data != payload or source[1] != echo_port:
        print("mismatch", size, len(data), source)
        sys.exit(1)
print("ok")
