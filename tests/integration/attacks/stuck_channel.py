#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# A compromised receive-pack: one channel to the publisher whose answer it never reads.
import os, socket, sys, time
ctl = socket.socket(fileno=3)
mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
socket.send_fds(ctl, [b"r"], [theirs.fileno()])
theirs.close()
req = ["gitcage-relay 1"]
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 300):
    req.append("command %s %s %s" % ("0" * 40, "1" * 40, "x%05d" % i + "y" * 3000))
req.append("end")
mine.sendall(("\n".join(req) + "\n").encode())
sys.stderr.write("stuck_channel: request sent; never reading the answer\n")
time.sleep(100000)
