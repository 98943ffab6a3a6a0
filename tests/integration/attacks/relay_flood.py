#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# A compromised receive-pack: many requests, each of many commands the publisher refuses at
# once. The publisher answers the first (receive-pack asks once per push) and closes every
# later channel unread; each outcome is printed to stderr, which reaches the client.
import socket, sys, time
requests, commands, namelen = (int(a) for a in sys.argv[1:4])
ctl = socket.socket(fileno=3)
for r in range(requests):
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    socket.send_fds(ctl, [b"r"], [theirs.fileno()])
    theirs.close()
    body = "".join("command %s %s x%d-%07d%s\n" % ("0" * 40, "1" * 40, r, i, "y" * namelen)
                   for i in range(commands))
    got = 0
    try:
        mine.sendall(("gitcage-relay 1\n" + body + "end\n").encode())
        while True:
            chunk = mine.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
            if chunk.endswith(b"\nend\n"):
                break
        outcome = "answered (%d bytes)" % got
    except (BrokenPipeError, ConnectionResetError):
        outcome = "closed unread"
    mine.close()
    sys.stderr.write("relay_flood: request %d %s\n" % (r, outcome))
time.sleep(15)
