"""Sv2 devices that open a standard channel each and count the jobs they are sent, without mining.

Usage: devices.py PORT COUNT USER STATUS_FILE

Opens COUNT connections to 127.0.0.1:PORT, completes Noise NX with each (sv2noise.py, an independent
implementation), sends SetupConnection and one OpenStandardMiningChannel as USER.<index>, then reads until killed.
After every message it rewrites STATUS_FILE with one line: "open O jobs J prevhashes P", where O counts the devices
whose channel opened, J the fewest NewMiningJob any device got and P the fewest SetNewPrevHash. A device whose
connection fails writes "failed: REASON" instead.
"""
import os
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import sv2noise  # noqa: E402

OPEN_STANDARD_SUCCESS, NEW_MINING_JOB, SET_NEW_PREV_HASH = 0x11, 0x15, 0x20


def main():
    port, count, user, status_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    lock = threading.Lock()
    counts = [{"open": 0, NEW_MINING_JOB: 0, SET_NEW_PREV_HASH: 0} for _ in range(count)]
    failure = []

    def report():
        with open(status_file + ".tmp", "w") as out:
            if failure:
                out.write("failed: %s\n" % failure[0])
            else:
                out.write("open %d jobs %d prevhashes %d\n" % (
                    sum(c["open"] for c in counts), min(c[NEW_MINING_JOB] for c in counts),
                    min(c[SET_NEW_PREV_HASH] for c in counts)))
        os.replace(status_file + ".tmp", status_file)

    def device(index):
        try:
            sock = sv2noise.connect(port, timeout=None)
            noise = sv2noise.NoiseInitiator(sock)
            noise.handshake()
            sock.sendall(noise.encrypt_frame(0, 0x00, sv2noise.setup_connection(vendor="count-device"))
                         + noise.encrypt_frame(0, 0x10, sv2noise.open_standard_channel(index, "%s.%d" % (user, index))))
            while True:
                _, message_type, _ = noise.receive_frame()
                with lock:
                    if message_type == OPEN_STANDARD_SUCCESS:
                        counts[index]["open"] = 1
                    elif message_type in (NEW_MINING_JOB, SET_NEW_PREV_HASH):
                        counts[index][message_type] += 1
                    report()
        except Exception as error:  # noqa: BLE001 - any failure is reported to the test
            with lock:
                failure.append("device %d: %s" % (index, error))
                report()

    threads = [threading.Thread(target=device, args=(index,), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
