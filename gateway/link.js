// One connection to one Modbus device (TCP socket or serial line) through jsmodbus, with every failure
// turned into a ModbusFailure of a known kind, so the poller can log, count and back off per device.
import { Socket } from 'node:net';
import Modbus from 'jsmodbus';
export class ModbusFailure extends Error {
    kind;
    /** Modbus exception code (1 illegal function, 2 illegal data address, ...) for kind exception. */
    exceptionCode;
    constructor(kind, message, exceptionCode) {
        super(message);
        this.name = 'ModbusFailure';
        this.kind = kind;
        this.exceptionCode = exceptionCode;
    }
}
/** Opens the connection; rejects with ModbusFailure('connect') when it cannot be made within the timeout. */
export async function openLink(device) {
    if (device.tcp)
        return openTcp(device);
    return openRtu(device);
}
async function openTcp(device) {
    const { host, port } = device.tcp;
    const socket = new Socket();
    socket.setNoDelay(true);
    const client = new Modbus.ModbusTCPClient(socket, device.unitId, device.timeoutMs);
    let open = false;
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new ModbusFailure('connect', `connect to ${host}:${port} timed out after ${device.timeoutMs} ms`));
        }, device.timeoutMs);
        socket.once('connect', () => {
            clearTimeout(timer);
            open = true;
            resolve();
        });
        socket.once('error', (err) => {
            clearTimeout(timer);
            reject(new ModbusFailure('connect', `connect to ${host}:${port}: ${err.message}`));
        });
        socket.connect({ host, port });
    });
    socket.on('error', () => { }); // surfaced as 'close' and as failed requests
    socket.on('close', () => {
        open = false;
    });
    return wrap(client, () => open, () => socket.destroy());
}
async function openRtu(device) {
    const rtu = device.rtu;
    // serialport is a native module: loaded only where a serial line is configured.
    let SerialPort;
    try {
        ({ SerialPort } = await import('serialport'));
    }
    catch (err) {
        throw new ModbusFailure('connect', `Modbus RTU needs the serialport package: ${err.message}`);
    }
    const port = new SerialPort({ path: rtu.path, baudRate: rtu.baudRate, parity: rtu.parity, dataBits: rtu.dataBits, stopBits: rtu.stopBits, autoOpen: false });
    await new Promise((resolve, reject) => port.open((err) => (err ? reject(new ModbusFailure('connect', `open ${rtu.path}: ${err.message}`)) : resolve())));
    let open = true;
    port.on('error', () => { });
    port.on('close', () => {
        open = false;
    });
    const client = new Modbus.ModbusRTUClient(port, device.unitId, device.timeoutMs);
    return wrap(client, () => open, () => port.isOpen && port.close());
}
function wrap(client, isOpen, close) {
    return {
        get connected() {
            return isOpen();
        },
        close,
        async read(table, address, count) {
            if (!isOpen())
                throw new ModbusFailure('disconnected', 'connection closed');
            try {
                switch (table) {
                    case 'holding':
                    case 'input': {
                        const res = table === 'holding' ? await client.readHoldingRegisters(address, count) : await client.readInputRegisters(address, count);
                        const body = res.response.body;
                        const registers = body.valuesAsBuffer;
                        if (registers.length !== count * 2)
                            throw new ModbusFailure('protocol', `asked ${count} registers at ${table} ${address}, got ${registers.length / 2}`);
                        return { registers };
                    }
                    case 'coils':
                    case 'discrete': {
                        const res = table === 'coils' ? await client.readCoils(address, count) : await client.readDiscreteInputs(address, count);
                        const body = res.response.body;
                        const all = Array.from(body.valuesAsArray, (v) => Boolean(v));
                        // The response pads to whole bytes; a shorter answer than asked is a broken device.
                        if (all.length < count)
                            throw new ModbusFailure('protocol', `asked ${count} bits at ${table} ${address}, got ${all.length}`);
                        return { bits: all.slice(0, count) };
                    }
                }
            }
            catch (err) {
                throw asFailure(err);
            }
        },
    };
}
function asFailure(err) {
    if (err instanceof ModbusFailure)
        return err;
    const e = err;
    switch (e?.err) {
        case 'Timeout':
            return new ModbusFailure('timeout', e.message ?? 'request timed out');
        case 'ModbusException': {
            const code = e.response?.body?.code;
            return new ModbusFailure('exception', `exception ${code} ${e.response?.body?.message ?? ''}`.trim(), code);
        }
        case 'Offline':
        case 'ManuallyCleared':
            return new ModbusFailure('disconnected', e.message ?? 'connection lost');
        case 'OutOfSync':
        case 'Protocol':
        case 'crcMismatch':
            return new ModbusFailure('protocol', e.message ?? e.err);
        default:
            return new ModbusFailure('protocol', e?.message ?? String(err));
    }
}
