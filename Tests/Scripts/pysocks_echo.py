"""Sends a payload through calzino with PySocks to an echo target and checks what comes back.

usage: pysocks_echo.py PROXY_PORT VERSION(4|4a|5|5h) TARGET_HOST TARGET_PORT SIZE
"""
import hashlib
import os
import sys

import socks

proxy_port, version, host, port, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
kind = {"4": (socks.SOCKS4, False), "4a": (socks.SOCKS4, True), "5": (socks.SOCKS5, False), "5h": (socks.SOCKS5, True)}[version]
s = socks.socksocket()
s.settimeout(30)
s.set_proxy(kind[0], "127.0.0.1", proxy_port, rdns=kind[1])
s.connect((host, port))
payload = os.urandom(size)
s.sendall(payload)
s.shutdown(socks.socket.SHUT_WR)
received = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    received += chunk
sent_hash = hashlib.sha256(payload).hexdigest()
got_hash = hashlib.sha256(received).hexdigest()
print(sent_hash, got_hash, len(received))
sys.exit(0 if sent_hash == got_hash else 1)
