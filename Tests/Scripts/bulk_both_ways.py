"""Moves SIZE bytes up and, at the same time, SIZE bytes back down through calzino (PySocks, SOCKS5) to an
echo target, and compares SHA-256 of what was sent and what came back.

usage: bulk_both_ways.py PROXY_PORT TARGET_PORT SIZE
"""
import hashlib
import os
import sys
import threading

import socks

proxy_port, port, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socks.socksocket()
s.settimeout(120)
s.set_proxy(socks.SOCKS5, "127.0.0.1", proxy_port)
s.connect(("127.0.0.1", port))
sent = hashlib.sha256()
block = 1 << 20

def send():
    remaining = size
    while remaining > 0:
        chunk = os.urandom(min(block, remaining))
        sent.update(chunk)
        s.sendall(chunk)
        remaining -= len(chunk)
    s.shutdown(socks.socket.SHUT_WR)

sender = threading.Thread(target=send)
sender.start()
received = hashlib.sha256()
count = 0
while True:
    chunk = s.recv(1 << 18)
    if not chunk:
        break
    received.update(chunk)
    count += len(chunk)
sender.join()
print(sent.hexdigest(), received.hexdigest(), count)
sys.exit(0 if sent.digest() == received.digest() and count == size else 1)
