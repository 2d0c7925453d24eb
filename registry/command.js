// `hazwatch device add|list|revoke|rotate` and `hazwatch device gateway|service`: the operator's
// handle on the registry. Credentials are printed once and never stored in clear.
import { DEVICE_CLASS_IDS, isDeviceClass } from '../contract/index.ts';
import { registryPath } from '../core/config.ts';
import { openRegistry, deviceUsername } from './registry.ts';
const USAGE = `device add <enterprise>/<device> --class <class> [--site <site>] [--name <name>] [--hazard-source <id>]
       hazwatch device gateway <enterprise>/<gateway>
       hazwatch device list [<enterprise>] [--json]
       hazwatch device revoke <enterprise>/<device>
       hazwatch device rotate <enterprise>/<device>`;
function splitId(arg) {
    const parts = (arg ?? '').split('/');
    if (parts.length !== 2 || !parts[0] || !parts[1])
        throw new Error(`expected <enterprise>/<device>, got "${arg ?? ''}"`);
    return [parts[0], parts[1]];
}
export const deviceCommand = {
    name: 'device',
    summary: 'Register devices and gateways, list them, rotate or revoke their MQTT credentials',
    usage: USAGE,
    options: {
        class: { type: 'string' },
        site: { type: 'string' },
        name: { type: 'string' },
        'hazard-source': { type: 'string' },
        json: { type: 'boolean' },
    },
    async run({ config, args, flags, out }) {
        const registry = openRegistry(registryPath(config));
        try {
            const [action, target] = args;
            switch (action) {
                case 'add': {
                    const [enterprise, id] = splitId(target);
                    const cls = String(flags.class ?? '');
                    if (!isDeviceClass(cls))
                        throw new Error(`--class must be one of ${DEVICE_CLASS_IDS.join(', ')}`);
                    const creds = await registry.addDevice({
                        enterprise,
                        id,
                        class: cls,
                        site: flags.site,
                        name: flags.name,
                        hazardSource: flags['hazard-source'],
                    });
                    out.write(flags.json ? JSON.stringify(creds) + '\n' : `device ${enterprise}/${id} (${cls}) registered; these credentials are shown only once:\n  client id: ${creds.clientId}\n  username:  ${creds.username}\n  password:  ${creds.password}\n`);
                    return;
                }
                case 'gateway': {
                    const [enterprise, id] = splitId(target);
                    const creds = await registry.addGateway(enterprise, id);
                    out.write(flags.json ? JSON.stringify(creds) + '\n' : `gateway ${enterprise}/${id} registered; these credentials are shown only once:\n  client id: ${creds.clientId}\n  username:  ${creds.username}\n  password:  ${creds.password}\n`);
                    return;
                }
                case 'rotate': {
                    const [enterprise, id] = splitId(target);
                    const creds = await registry.rotate(deviceUsername(enterprise, id));
                    out.write(flags.json ? JSON.stringify(creds) + '\n' : `new password for ${creds.username} (shown only once): ${creds.password}\n`);
                    return;
                }
                case 'revoke': {
                    const [enterprise, id] = splitId(target);
                    const done = registry.revokeDevice(enterprise, id) || registry.revokeAccount(deviceUsername(enterprise, id));
                    if (!done)
                        throw new Error(`${enterprise}/${id} is not registered or already revoked`);
                    out.write(`${enterprise}/${id} revoked; connected sessions are closed by the broker within seconds\n`);
                    return;
                }
                case 'list': {
                    const devices = registry.devices(target);
                    if (flags.json) {
                        out.write(JSON.stringify(devices, null, 2) + '\n');
                        return;
                    }
                    out.write(`${'DEVICE'.padEnd(40)} ${'CLASS'.padEnd(16)} ${'SITE'.padEnd(16)} STATE\n`);
                    for (const d of devices)
                        out.write(`${`${d.enterprise}/${d.id}`.padEnd(40)} ${d.class.padEnd(16)} ${d.site.padEnd(16)} ${d.revokedAt ? 'revoked' : 'active'}\n`);
                    return;
                }
                default:
                    throw new Error(`usage: hazwatch ${USAGE}`);
            }
        }
        finally {
            registry.close();
        }
    },
};
