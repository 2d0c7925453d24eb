import mqtt from 'mqtt';
import { it } from 'vitest';
import { startTestBroker } from '/work/main/test/support/broker.ts';
it('dbg', async () => {
  for (const [persistence, retainEvery] of [['level', 0], ['level', 2], ['level', 10]] as const) {
    const broker = await startTestBroker({ broker: { persistence } });
    const { password } = await broker.registry.addGateway('demo', 'gw-01');
    let got = 0, gotRetainedTopic = 0;
    const obs = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
    obs.on('message', (t) => { got++; if (t.endsWith('status')) gotRetainedTopic++; });
    await obs.subscribeAsync('hw/v1/demo/+/+', { qos: 1 });
    const c = await mqtt.connectAsync(broker.url, { username: 'demo/gw-01', clientId: 'demo/gw-01', password, reconnectPeriod: 0 });
    let sent = 0, sentRetained = 0;
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => { sent++; const r = retainEvery > 0 && i % retainEvery === 0; if (r) sentRetained++; return c.publishAsync(`hw/v1/demo/d${i}/${r ? 'status' : 'telemetry'}`, JSON.stringify({ round, i }), { qos: 1, retain: r }); }));
    }
    await new Promise((r) => setTimeout(r, 1000));
    process.stderr.write(`RESULT ${persistence} retainEvery=${retainEvery} sent ${sent} (retained ${sentRetained}) got ${got} (retained topics ${gotRetainedTopic})\n`);
    await c.endAsync(); await obs.endAsync(); await broker.close();
  }
}, 60000);
