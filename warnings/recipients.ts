// Who a warning reaches and by which channel: the audiences chosen name people (on duty now, or of a
// kind in the directory) in the enterprises concerned and the regulators' units; each person gets every
// personal channel of the audience they have an address for, and each group channel gets the warning
// once, mentioning the people of its audiences. Resolved once, at the first publication: updates and
// the all-clear go to the same people even if the duty has changed since.
import { PERSONAL, type DispatchChannel } from '../core/dispatch/config.ts';
import type { DeliveryInput } from '../core/dispatch/store.ts';
import type { Audience } from './config.ts';
import type { Recipient, Warning } from './model.ts';
import type { Publication } from './store.ts';

export interface DirectoryPerson {
  id: string;
  name: string;
  phone?: string;
  email?: string;
}

/** The people directory and duty roster as warnings need them (registry/roster.ts behind an adapter). */
export interface Directory {
  /** On duty now (officers and the leader on call) in the enterprises' units and, with regulators, the regulators' units. */
  onDuty(enterprises: string[], regulators: boolean, at: number): Promise<DirectoryPerson[]>;
  /** People of these kinds in those units. */
  ofKinds(kinds: string[], enterprises: string[], regulators: boolean): Promise<DirectoryPerson[]>;
}

export async function resolveRecipients(w: Pick<Warning, 'audiences' | 'enterprises'>, audiences: Audience[], directory: Directory, at: number): Promise<Recipient[]> {
  const byId = new Map<string, Recipient>();
  for (const id of w.audiences) {
    const a = audiences.find((x) => x.id === id);
    if (!a) continue;
    const people = [...(a.onDuty ? await directory.onDuty(w.enterprises, a.regulators, at) : []), ...(a.kinds.length ? await directory.ofKinds(a.kinds, w.enterprises, a.regulators) : [])];
    for (const p of people) {
      const r = byId.get(p.id) ?? byId.set(p.id, { id: p.id, name: p.name, ...(p.phone ? { phone: p.phone } : {}), ...(p.email ? { email: p.email } : {}), audiences: [] }).get(p.id)!;
      if (!r.audiences.includes(a.id)) r.audiences.push(a.id);
    }
  }
  return [...byId.values()];
}

const LEVEL_ZH = { 1: '红色', 2: '橙色', 3: '黄色', 4: '蓝色' } as const;

function bodyFor(channel: DispatchChannel, p: Publication): string {
  const w = p.warning;
  if (channel.type === 'sms' || channel.type === 'mqtt') return p.text;
  if (channel.type === 'email') return `${p.text}\n\n${p.kind === 'published' && w.textEn ? `${w.textEn}\n\n` : ''}${w.area ? `区域 Area: ${w.area}\n` : ''}预警编号 Warning: ${w.id} (${p.revision})`;
  return `**${p.title}**\n\n${p.text}\n\n> ${LEVEL_ZH[w.level]}预警 Level ${w.level}${w.area ? ` · ${w.area}` : ''} · ${w.id}`;
}

/** The outbox rows of one publication: per person and personal channel, and per group channel. */
export function deliveriesOf(p: Publication, audiences: Audience[], channels: DispatchChannel[]): DeliveryInput[] {
  const w = p.warning;
  const chosen = audiences.filter((a) => w.audiences.includes(a.id));
  const byName = new Map(channels.map((c) => [c.name, c]));
  const out: DeliveryInput[] = [];
  const subject = p.kind === 'all_clear' ? `【解除】${p.title}` : p.kind === 'updated' ? `【更新】${p.title}` : p.title;
  const base = { source: 'warning', sourceId: w.id, revision: p.revision, subject, level: w.level };
  const seen = new Set<string>();
  for (const r of w.recipients) {
    for (const a of chosen.filter((x) => r.audiences.includes(x.id))) {
      for (const name of a.channels) {
        const ch = byName.get(name);
        const field = ch && PERSONAL[ch.type];
        const address = field && r[field];
        if (!ch || !address || seen.has(`${r.id}\0${name}`)) continue;
        seen.add(`${r.id}\0${name}`);
        out.push({ ...base, recipient: r.id, recipientName: r.name, channel: name, address, body: bodyFor(ch, p), mentions: [] });
      }
    }
  }
  for (const name of new Set(chosen.flatMap((a) => a.channels))) {
    const ch = byName.get(name);
    if (!ch || PERSONAL[ch.type]) continue;
    const mentions = [...new Set(w.recipients.filter((r) => r.phone && chosen.some((a) => a.channels.includes(name) && r.audiences.includes(a.id))).map((r) => r.phone!))];
    out.push({ ...base, recipient: `group:${name}`, recipientName: name, channel: name, address: '', body: bodyFor(ch, p), mentions });
  }
  return out;
}
