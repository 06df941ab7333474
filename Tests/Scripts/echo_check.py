"""Sends a random payload through calzino to an echo target with a real Python SOCKS client, half-closes, and
checks that SHA-256 of what came back equals what was sent.

usage: echo_check.py pysocks PROXY_PORT VERSION(4|4a|5|5h) TARGET_HOST TARGET_PORT SIZE
       echo_check.py python-socks PROXY_URL TARGET_HOST TARGET_PORT SIZE
"""
import hashlib
import os
import socket
import sys


def pysocks(proxy_port, version, host, port):
    import socks

    kind, rdns = {"4": (socks.SOCKS4, False), "4a": (socks.SOCKS4, True), "5": (socks.SOCKS5, False), "5h": (socks.SOCKS5, True)}[version]
    s = socks.socksocket()
    s.settimeout(30)
    s.set_proxy(kind, "127.0.0.1", int(proxy_port), rdns=rdns)
    s.connect((host, int(port)))
    return s


def python_socks(url, host, port):
    from python_socks.sync import Proxy

    s = Proxy.from_url(url, rdns=True).connect(dest_host=host, dest_port=int(port), timeout=30)
    s.settimeout(30)
    return s


client, args = sys.argv[1], sys.argv[2:]
s = pysocks(*args[:4]) if client == "pysocks" else python_socks(*args[:3])
payload = os.urandom(int(args[-1]))
s.sendall(payload)
s.shutdown(socket.SHUT_WR)
received = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    received += chunk
sent_hash, got_hash = hashlib.sha256(payload).hexdigest(), hashlib.sha256(received).hexdigest()
print(sent_hash, got_hash, len(received))
sys.exit(0 if sent_hash == got_hash else 1)
