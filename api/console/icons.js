// The console's icons as inline SVG, shipped with it: a symbol never depends on the operator's machine
// having an emoji or symbol font (a closed network's workstation often has neither), and every icon
// takes the colour of the text around it (currentColor), so it follows the state it sits in.
// Each export is a function: Preact must not mount one vnode in two places.
import { h } from 'preact';
import htm from 'htm';

const html = htm.bind(h);

// One 16 × 16 grid, stroked lines: legible at text size on a dark console. Decorative (aria-hidden):
// the button or badge it sits in says what it means in words.
const svg = (name, body) =>
  html`<svg class=${`icon icon-${name}`} viewBox="0 0 16 16" width="1em" height="1em" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

/** Sound on (the mute button while alarms may sound). */
export const bell = () => svg('bell', html`<path d="M4 11V7a4 4 0 0 1 8 0v4l1.3 1.5H2.7Z" /><path d="M6.5 14a1.6 1.6 0 0 0 3 0" />`);
/** Sound off (muted). */
export const bellOff = () => svg('bell-off', html`<path d="M4 11V7a4 4 0 0 1 8 0v4l1.3 1.5H2.7Z" /><path d="M6.5 14a1.6 1.6 0 0 0 3 0" /><path d="M1.5 1.5l13 13" />`);
/** Done, seen. */
export const check = () => svg('check', html`<path d="M3 8.5l3.2 3.2L13 4.5" />`);
/** Warning (alarm flood). */
export const warning = () => svg('warning', html`<path d="M8 1.8l6.6 11.7H1.4Z" /><path d="M8 6.2v3.6" /><circle cx="8" cy="11.8" r="0.5" fill="currentColor" />`);
/** A state lamp (live connection). */
export const dot = () => svg('dot', html`<circle cx="8" cy="8" r="4" fill="currentColor" stroke="none" />`);
/** Back to the previous page. */
export const back = () => svg('back', html`<path d="M13 8H3" /><path d="M7 4L3 8l4 4" />`);
/** Close a panel. */
export const close = () => svg('close', html`<path d="M4 4l8 8M12 4l-8 8" />`);
/** A consequence hangs under its cause. */
export const consequence = () => svg('consequence', html`<path d="M4 2v5.5A3.5 3.5 0 0 0 7.5 11H13" /><path d="M10 8l3 3-3 3" />`);

// ---- the map (issue 17): what a marker is, drawn in the colour of its marker ----
/** An enterprise: a factory. */
export const factory = () => svg('factory', html`<path d="M2 14V7l4 2.5V7l4 2.5V3h4v11Z" />`);
/** A snapshot (a camera's picture of the event). */
export const camera = () => svg('camera', html`<path d="M2 5.5h3l1.2-2h3.6l1.2 2h3v8H2Z" /><circle cx="8" cy="9.3" r="2.4" />`);
/** Live video. */
export const video = () => svg('video', html`<rect x="1.5" y="4" width="9" height="8" rx="1" /><path d="M10.5 7l4-2.2v6.4l-4-2.2" />`);
/** Import a file. */
export const upload = () => svg('upload', html`<path d="M8 11V2.5" /><path d="M4.5 6L8 2.5 11.5 6" /><path d="M2.5 11v2.5h11V11" />`);

/** Emergency resources by kind: a glyph each, so that the kind reads without colour. */
export const resource = {
  rescue_team: () => svg('rescue-team', html`<circle cx="5" cy="4.5" r="2" /><circle cx="11" cy="4.5" r="2" /><path d="M1.5 13c0-3 1.6-4.5 3.5-4.5S8.5 10 8.5 13" /><path d="M7.5 13c0-3 1.6-4.5 3.5-4.5s3.5 1.5 3.5 4.5" />`),
  warehouse: () => svg('warehouse', html`<path d="M1.5 14V6L8 2l6.5 4v8" /><path d="M4.5 14V9h7v5" /><path d="M4.5 11.5h7" />`),
  vehicle: () => svg('vehicle', html`<path d="M1.5 11.5V6h8v5.5M9.5 8h3l2 2.5v1h-5" /><circle cx="4.5" cy="12" r="1.5" /><circle cx="11.5" cy="12" r="1.5" />`),
  equipment: () => svg('equipment', html`<path d="M10.5 2.5a3 3 0 0 0-3 4L2.5 11.5l2 2 5-5a3 3 0 0 0 4-3l-2 1.5-2-2Z" />`),
  shelter: () => svg('shelter', html`<path d="M1.5 13.5L8 2.5l6.5 11Z" /><path d="M6.5 13.5L8 10l1.5 3.5" />`),
  fire_station: () => svg('fire-station', html`<path d="M8 14c-3 0-4.5-2-4.5-4.3C3.5 6.5 7 5 7 1.8c2 1.2 3.2 3 3 5 .8-.4 1.3-1.2 1.4-2 1.2 1.3 1.6 3 1.6 4.9C13 12 11 14 8 14Z" />`),
  expert: () => svg('expert', html`<circle cx="8" cy="4.5" r="2.5" /><path d="M3 14c0-3.2 2.2-5 5-5s5 1.8 5 5" /><path d="M6.5 9.5L8 12l1.5-2.5" />`),
};
