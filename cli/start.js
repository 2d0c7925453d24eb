export const startCommand = {
    name: 'start',
    summary: 'Run broker, ingest, rules and API in one process (--demo adds simulators and a scenario)',
    async run() {
        throw new Error('hazwatch start is not built yet');
    },
};
