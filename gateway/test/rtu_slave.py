"""A Modbus RTU slave on a pseudo-terminal, written from the Modbus over serial line spec (V1.02) without
any library, for the RTU test of the gateway: prints the pty path, then answers FC 3 and 4.

argv[1]: JSON {"unit": n, "holding": {addr: value}, "input": {addr: value}} (16-bit register values)
"""
import json
import os
import pty
import select
import sys
import termios
import tty


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body: bytes) -> bytes:
    c = crc16(body)
    return body + bytes([c & 0xFF, c >> 8])


def main():
    spec = json.loads(sys.argv[1])
    unit = spec["unit"]
    tables = {3: {int(k): v for k, v in spec.get("holding", {}).items()}, 4: {int(k): v for k, v in spec.get("input", {}).items()}}
    master, slave = pty.openpty()
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    print(os.ttyname(slave), flush=True)
    buf = b""
    while True:
        ready, _, _ = select.select([master, sys.stdin], [], [], 0.01)
        if sys.stdin in ready:
            if not sys.stdin.readline():
                return
        if master in ready:
            try:
                buf += os.read(master, 256)
            except OSError:
                return
            continue
        # Silence ends a frame (3.5 character times; 10 ms here). Every request we answer is 8 bytes:
        # a shorter rest after silence is a broken frame and is dropped.
        if len(buf) < 8:
            buf = b""
            continue
        req, buf = buf[:8], buf[8:]
        if crc16(req[:6]) != req[6] | (req[7] << 8) or req[0] != unit:
            continue  # bad CRC or another slave: stay silent, as the spec says
        fc, start, count = req[1], (req[2] << 8) | req[3], (req[4] << 8) | req[5]
        table = tables.get(fc)
        if table is None:
            os.write(master, frame(bytes([unit, fc | 0x80, 0x01])))
            continue
        if any((start + i) not in table for i in range(count)):
            os.write(master, frame(bytes([unit, fc | 0x80, 0x02])))
            continue
        data = b"".join(table[start + i].to_bytes(2, "big") for i in range(count))
        os.write(master, frame(bytes([unit, fc, len(data)]) + data))


main()
