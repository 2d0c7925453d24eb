import { environmentVariables } from '../core/config.ts';
function mask(value, key = '') {
    if (/password|token|secret/i.test(key) && typeof value === 'string')
        return '********';
    if (value && typeof value === 'object' && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
    }
    return value;
}
export const configCommand = {
    name: 'config',
    summary: 'Print the effective configuration (config show) or every HAZWATCH_* variable (config env)',
    usage: 'config [show|env]',
    async run({ config, args, out }) {
        if (args[0] === 'env') {
            for (const { name, path } of environmentVariables())
                out.write(`${name.padEnd(44)} ${path}\n`);
            return;
        }
        out.write(JSON.stringify(mask(config), null, 2) + '\n');
    },
};
