// What a demo needs that a real installation gets from elsewhere: the simulated camera's snapshots
// (simulators/models/camera.ts with meta.snapshotBase /demo/snapshots), drawn here as a picture that
// says what it is, so that the console's snapshot link of a demo alarm opens something. Only with api.demo.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function demoRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (!ctx.config.demo) return;
  app.get<{ Params: { camera: string; file: string } }>('/demo/snapshots/:camera/:file', { schema: { hide: true } }, async (req, reply) => {
    const t = Number(/^(\d{13})\.jpg$/.exec(req.params.file)?.[1]);
    if (!Number.isFinite(t) || !/^[A-Za-z0-9_.-]{1,64}$/.test(req.params.camera)) return reply.code(404).send();
    const when = new Date(t).toISOString().replace('T', ' ').slice(0, 19);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">
<defs><radialGradient id="f" cx="50%" cy="80%" r="60%"><stop offset="0" stop-color="#ffd54f"/><stop offset="0.5" stop-color="#f57c00"/><stop offset="1" stop-color="#3e2723"/></radialGradient></defs>
<rect width="640" height="360" fill="#263238"/><rect x="60" y="120" width="520" height="200" fill="#455a64"/>
<ellipse cx="320" cy="300" rx="150" ry="90" fill="url(#f)" opacity="0.9"/><ellipse cx="300" cy="120" rx="190" ry="70" fill="#9e9e9e" opacity="0.6"/>
<rect x="0" y="0" width="640" height="34" fill="#000" opacity="0.6"/>
<text x="12" y="23" font-family="monospace" font-size="16" fill="#fff">${esc(req.params.camera)}  ${when} UTC  DEMO / 演示</text>
</svg>`;
    return reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(svg);
  });
}
