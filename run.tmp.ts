import { startTestBroker } from './test/support/broker.ts';
const b = await startTestBroker();
const c = await b.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
console.log(`export HW_PORT=${b.port} HW_USER=${c.username} HW_PASS=${c.password}`);
setTimeout(() => b.close(), 40000);
