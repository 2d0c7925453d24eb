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
