"""Sends a payload through calzino with python-socks (sync API) to an echo target and checks the echo.

usage: python_socks_echo.py PROXY_URL TARGET_HOST TARGET_PORT SIZE
"""
import hashlib
import os
import socket
import sys

from python_socks.sync import Proxy

url, host, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
proxy = Proxy.from_url(url, rdns=True)
s = proxy.connect(dest_host=host, dest_port=port, timeout=30)
s.settimeout(30)
payload = os.urandom(size)
s.sendall(payload)
s.shutdown(socket.SHUT_WR)
received = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    received += chunk
ok = hashlib.sha256(payload).digest() == hashlib.sha256(received).digest()
print(hashlib.sha256(payload).hexdigest(), hashlib.sha256(received).hexdigest(), len(received))
sys.exit(0 if ok else 1)
