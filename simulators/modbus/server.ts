// A Modbus TCP slave on jsmodbus's server: four data tables, answered only inside the register blocks
// the device really has (elsewhere "illegal data address", exception 2, as real devices do), and only
// for its own unit id (else exception 0x0B, "gateway target device failed to respond", as a TCP/RTU
// gateway answers for an absent slave). Sockets are tracked so that a test can kill the device.
import { createServer, type Server, type Socket } from 'node:net';
import Modbus from 'jsmodbus';
import type { Table } from '../../gateway/map.ts';

export interface Block {
  table: Table;
  start: number;
  /** Registers, or bits for coils and discrete inputs. */
  count: number;
}

export interface RegisterBank {
  /** 65536 registers of each register table, big-endian bytes as on the wire. */
  holding: Buffer;
  input: Buffer;
  coils: boolean[];
  discrete: boolean[];
}

export function createBank(): RegisterBank {
  return { holding: Buffer.alloc(65536 * 2), input: Buffer.alloc(65536 * 2), coils: new Array(65536).fill(false), discrete: new Array(65536).fill(false) };
}

export interface SlaveServer {
  port: number;
  /** Connections currently open. */
  readonly connections: number;
  /** Stops listening and cuts every connection, like a device losing power. */
  close(): Promise<void>;
}

export interface SlaveOptions {
  host?: string;
  port: number;
  unitId: number;
  bank: RegisterBank;
  blocks: Block[];
  /** Delay before each answer (a slow line); 0 by default. */
  delayMs?: () => number;
}

const ILLEGAL_FUNCTION = 0x01;
const ILLEGAL_DATA_ADDRESS = 0x02;
const GATEWAY_TARGET_FAILED = 0x0b;

export async function startSlave(options: SlaveOptions): Promise<SlaveServer> {
  const { bank, blocks, unitId } = options;
  const sockets = new Set<Socket>();
  const net: Server = createServer();
  net.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  // null tables make jsmodbus hand every read to the handlers below instead of serving its own buffers.
  const none = null as unknown as Buffer;
  const server = new Modbus.ModbusTCPServer(net, { coils: none, discrete: none, holding: none, input: none });

  const inBlocks = (table: Table, start: number, count: number) => blocks.some((b) => b.table === table && start >= b.start && start + count <= b.start + b.count);

  type Req = { unitId: number; body: { fc: number; start: number; count: number } };
  const answer = (table: Table, request: Req, cb: (b: Buffer) => void) => {
    const reply = () => {
      const { start, count, fc } = request.body;
      let body;
      if (request.unitId !== unitId) body = new Modbus.responses.ExceptionResponseBody(fc as never, GATEWAY_TARGET_FAILED as never);
      else if (!inBlocks(table, start, count)) body = new Modbus.responses.ExceptionResponseBody(fc as never, ILLEGAL_DATA_ADDRESS as never);
      else if (table === 'holding' || table === 'input') {
        const data = Buffer.from(bank[table].subarray(start * 2, (start + count) * 2));
        body = new (table === 'holding' ? Modbus.responses.ReadHoldingRegistersResponseBody : Modbus.responses.ReadInputRegistersResponseBody)(data.length, data as never);
      } else {
        const bits = bank[table].slice(start, start + count).map((b) => (b ? 1 : 0)) as (0 | 1)[];
        body = new (table === 'coils' ? Modbus.responses.ReadCoilsResponseBody : Modbus.responses.ReadDiscreteInputsResponseBody)(bits as never, Math.ceil(count / 8));
      }
      cb(Modbus.ModbusTCPResponse.fromRequest(request as never, body as never).createPayload());
    };
    const delay = options.delayMs?.() ?? 0;
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  };
  const on = server.on.bind(server) as unknown as (event: string, listener: (request: Req, cb: (b: Buffer) => void) => void) => void;
  on('readHoldingRegisters', (r, cb) => answer('holding', r, cb));
  on('readInputRegisters', (r, cb) => answer('input', r, cb));
  on('readCoils', (r, cb) => answer('coils', r, cb));
  on('readDiscreteInputs', (r, cb) => answer('discrete', r, cb));
  // The simulated devices are read-only: writes are refused as an instrument without write access would.
  for (const event of ['writeSingleCoil', 'writeSingleRegister', 'writeMultipleCoils', 'writeMultipleRegisters']) {
    on(event, (r, cb) => cb(Modbus.ModbusTCPResponse.fromRequest(r as never, new Modbus.responses.ExceptionResponseBody(r.body.fc as never, ILLEGAL_FUNCTION as never) as never).createPayload()));
  }

  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(options.port, options.host ?? '127.0.0.1', () => {
      net.off('error', reject);
      resolve();
    });
  });
  const port = (net.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return sockets.size;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => net.close(() => resolve()));
    },
  };
}
