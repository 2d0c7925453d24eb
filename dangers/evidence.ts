// What an evidence file is, told by its first bytes (magic numbers), never by its name or the
// Content-Type the client claims: a script renamed to .png is refused, a photo sent as
// application/octet-stream is taken.
import { createHash } from 'node:crypto';
import type { EvidenceType } from './model.ts';

export function sniffEvidence(bytes: Buffer): EvidenceType | null {
  const starts = (sig: number[], at = 0) => bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  // RIFF <size> WEBP
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  return null;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const EXTENSION: Record<EvidenceType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'application/pdf': 'pdf' };

/**
 * The file name to keep: the client's, stripped of any path and of characters that do not belong in
 * a header, with the extension of what the file really is.
 */
export function evidenceName(given: string | undefined, type: EvidenceType, at: number): string {
  const base = (given ?? '')
    .split(/[\\/]/)
    .pop()!
    .replace(/[\u0000-\u001f"<>|:*?\u007f]/g, '')
    .trim()
    .slice(0, 120)
    .replace(/\.[A-Za-z0-9]{1,5}$/, '');
  return `${base || `evidence-${at}`}.${EXTENSION[type]}`;
}
