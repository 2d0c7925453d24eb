"""Independent Modbus master for the tests: reads and decodes points with Debian's python3-pymodbus,
so that our simulator (encoder) and our gateway (decoder) cannot share one mistake unnoticed.

stdin: {"port": n, "unit": n, "points": [{"table", "address", "type", "order", "scale", "offset", "bit"}]}
stdout: JSON list of engineering values (numbers or booleans), one per point.
Byte/word orders are mapped to pymodbus' own (byteorder, wordorder) parameters, not to our code.
"""
import json
import sys
import types

# pymodbus' client package imports its serial client, whose dependency (python3-serial) is not
# installed here; only the TCP client is used.
for name in ("serial", "serial_asyncio"):
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.__getattr__ = lambda attr: type(attr, (), {})
        sys.modules[name] = stub

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.constants import Endian  # noqa: E402
from pymodbus.payload import BinaryPayloadDecoder  # noqa: E402

ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}
WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4, "bit": 1}
DECODE = {
    "int16": "decode_16bit_int",
    "uint16": "decode_16bit_uint",
    "int32": "decode_32bit_int",
    "uint32": "decode_32bit_uint",
    "float32": "decode_32bit_float",
    "float64": "decode_64bit_float",
}


def main():
    spec = json.load(sys.stdin)
    client = ModbusTcpClient("127.0.0.1", port=spec["port"], timeout=3)
    if not client.connect():
        raise SystemExit("cannot connect")
    unit = spec.get("unit", 1)
    out = []
    for p in spec["points"]:
        table, address = p["table"], p["address"]
        if table in ("coils", "discrete"):
            rr = (client.read_coils if table == "coils" else client.read_discrete_inputs)(address, 1, slave=unit)
            if rr.isError():
                raise SystemExit(f"read failed: {rr}")
            out.append(bool(rr.bits[0]))
            continue
        kind = p.get("type") or "uint16"
        read = client.read_holding_registers if table == "holding" else client.read_input_registers
        rr = read(address, WIDTH[kind], slave=unit)
        if rr.isError():
            raise SystemExit(f"read failed: {rr}")
        if kind == "bit":
            out.append(bool((rr.registers[0] >> p["bit"]) & 1))
            continue
        byteorder, wordorder = ORDERS[p.get("order") or "ABCD"]
        decoder = BinaryPayloadDecoder.fromRegisters(rr.registers, byteorder=byteorder, wordorder=wordorder)
        raw = getattr(decoder, DECODE[kind])()
        out.append(raw * p.get("scale", 1) + p.get("offset", 0))
    client.close()
    json.dump(out, sys.stdout)


main()
