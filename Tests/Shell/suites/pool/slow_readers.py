"""Connections that complete the Noise handshake, ask for jobs and then never read.

Usage: slow_readers.py PORT COUNT CHANNELS SECONDS

Opens COUNT connections to 127.0.0.1:PORT with a 4 KiB receive buffer, completes Noise NX with each (an independent
implementation, sv2noise.py), sends SetupConnection with REQUIRES_STANDARD_JOBS and CHANNELS OpenStandardMiningChannel
requests, so that every job the pool makes is CHANNELS NewMiningJob messages on each of them, and then reads nothing
for SECONDS. Prints how many connections were set up and how many the pool had closed by the end.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402


def main():
    port, count, channels, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    connections = []
    for index in range(count):
        sock = sv2noise.connect(port, receive_buffer=4096)
        noise = sv2noise.NoiseInitiator(sock)
        noise.handshake()
        frames = noise.encrypt_frame(0, 0x00, sv2noise.setup_connection(flags=1, vendor="slow-reader"))
        for channel in range(channels):
            frames += noise.encrypt_frame(0, 0x10, sv2noise.open_standard_channel(channel, "slow.%d" % index))
        sock.sendall(frames)
        connections.append(sock)
    print("set up %d connections with %d channels each" % (len(connections), channels), flush=True)
    time.sleep(seconds)
    closed = 0
    for sock in connections:
        # Drain what the kernel holds: a connection the pool closed ends with EOF or a reset.
        sock.setblocking(False)
        try:
            while True:
                data = sock.recv(1 << 20)
                if not data:
                    closed += 1
                    break
        except BlockingIOError:
            pass
        except (ConnectionResetError, OSError):
            closed += 1
        sock.close()
    print("closed by the pool: %d of %d" % (closed, len(connections)), flush=True)


if __name__ == "__main__":
    main()
