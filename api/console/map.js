// The one map on a geographic map (issue 17): enterprises, hazard sources, devices and emergency
// resources at their WGS-84 coordinates. Leaflet draws it (no WebGL needed), supercluster gathers
// what is close together at the zoom in view, so a province of thousands of points stays a few
// dozen DOM markers. Tiles come from the intranet tile server of api.tileUrl; without one, a plain
// latitude/longitude grid is drawn and nothing is fetched from anywhere.
import { h, render } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import htm from 'htm';
import * as L from 'leaflet';
import Supercluster from 'supercluster';
import * as icon from './icons.js';

const html = htm.bind(h);

export const LEVEL_HEX = { 1: '#d32f2f', 2: '#f57c00', 3: '#fbc02d', 4: '#1976d2' };
export const RISK_HEX = { red: '#d32f2f', orange: '#f57c00', yellow: '#fbc02d', blue: '#1976d2' };
const LEVEL_NAME = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' };
const RISK_RANK = { red: 1, orange: 2, yellow: 3, blue: 4 };
const GREY = '#6b7785';
const OK = '#2e7d32';
/** Resources are not alarms: one neutral colour, their kind told by the glyph (ISA-101). */
const RESOURCE_HEX = '#b0bec5';
const NEUTRAL_RANK = 9;

export const RESOURCE_KINDS = ['rescue_team', 'warehouse', 'vehicle', 'equipment', 'shelter', 'fire_station', 'expert'];
/** The layers that switch on and off. */
export const LAYERS = ['enterprises', 'sources', 'devices', 'dangers', ...RESOURCE_KINDS];

const ATTENTION = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'];
const hasPosition = (o) => typeof o?.lat === 'number' && typeof o?.lon === 'number';

/** Whether anything of the plant has coordinates: the map is then the first view. */
export function anyPositions(overview) {
  return !!overview && (overview.enterprises.some(hasPosition) || overview.sources.some(hasPosition));
}

/**
 * Points of the layers switched on, each with its colour and its severity rank (lower is worse):
 * live, by the worst alarm needing attention; risk, by the assessed risk colour (四色图).
 */
export function mapFeatures({ overview, devices, resources, dangers, alarms, mode, layers }) {
  const out = [];
  const point = (lat, lon, properties) => out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties });
  if (!overview) return out;
  const sourceKey = (s) => `${s.enterprise}/${s.id}`;
  const sources = new Map(overview.sources.map((s) => [sourceKey(s), s]));
  const liveSource = (s) =>
    s.worstLevel ? { hex: LEVEL_HEX[s.worstLevel], name: LEVEL_NAME[s.worstLevel], rank: s.worstLevel } : s.offline ? { hex: GREY, name: 'grey', rank: 5 } : { hex: OK, name: 'normal', rank: 6 };
  const riskSource = (s) => ({ hex: RISK_HEX[s.riskColour], name: s.riskColour, rank: RISK_RANK[s.riskColour] });
  if (layers.enterprises) {
    for (const e of overview.enterprises.filter(hasPosition)) {
      let c;
      if (mode === 'risk') {
        const own = overview.sources.filter((s) => s.enterprise === e.id);
        const worst = own.map((s) => s.riskColour).sort((a, b) => RISK_RANK[a] - RISK_RANK[b])[0];
        c = worst ? riskSource({ riskColour: worst }) : { hex: GREY, name: 'none', rank: NEUTRAL_RANK };
      } else c = e.worstLevel ? { hex: LEVEL_HEX[e.worstLevel], name: LEVEL_NAME[e.worstLevel], rank: e.worstLevel } : { hex: OK, name: 'normal', rank: 6 };
      point(e.lat, e.lon, { type: 'enterprise', key: e.id, name: e.name, hex: c.hex, colour: c.name, rank: c.rank });
    }
  }
  if (layers.sources) {
    for (const s of overview.sources.filter(hasPosition)) {
      const c = mode === 'risk' ? riskSource(s) : liveSource(s);
      point(s.lat, s.lon, { type: 'source', key: sourceKey(s), name: s.name, grade: s.grade, hex: c.hex, colour: c.name, rank: c.rank, active: mode !== 'risk' && !!s.worstLevel && s.worstLevel <= 2 });
    }
  }
  if (layers.devices && devices) {
    // Worst alarm needing attention per device.
    const worst = new Map();
    for (const a of alarms) {
      if (!ATTENTION.includes(a.state)) continue;
      const k = `${a.enterprise}/${a.device}`;
      if (!worst.has(k) || a.level < worst.get(k)) worst.set(k, a.level);
    }
    // Only devices with their own position (meta.lat/lon): the others are their hazard source's
    // (its panel lists them), and a position made up for them would be a false one.
    for (const d of devices) {
      if (d.revokedAt !== null || !hasPosition(d.meta)) continue;
      const s = d.hazardSource ? sources.get(`${d.enterprise}/${d.hazardSource}`) : undefined;
      const { lat, lon } = d.meta;
      const level = worst.get(`${d.enterprise}/${d.id}`);
      let c;
      if (mode === 'risk') c = s ? riskSource(s) : { hex: GREY, name: 'none', rank: NEUTRAL_RANK };
      else c = level ? { hex: LEVEL_HEX[level], name: LEVEL_NAME[level], rank: level } : !d.online ? { hex: GREY, name: 'grey', rank: 5 } : { hex: OK, name: 'normal', rank: 6 };
      point(lat, lon, { type: 'device', key: `${d.enterprise}/${d.id}`, name: d.name || d.id, cls: d.class, hex: c.hex, colour: c.name, rank: c.rank });
    }
  }
  // Overdue hidden dangers (issue 16) at their device's, hazard source's or enterprise's coordinates
  // (the API's position): red when major, orange when general, in either mode: they ask for action.
  if (layers.dangers) {
    for (const d of dangers ?? []) {
      if (!d.overdue || !d.position) continue;
      const level = d.grade === 'major' ? 1 : 2;
      point(d.position.lat, d.position.lon, { type: 'danger', key: d.id, name: d.title, grade: d.grade, hex: LEVEL_HEX[level], colour: LEVEL_NAME[level], rank: level });
    }
  }
  for (const r of resources ?? []) {
    if (!layers[r.kind]) continue;
    point(r.lat, r.lon, { type: 'resource', key: r.id, kind: r.kind, name: r.name, hex: RESOURCE_HEX, colour: 'resource', rank: NEUTRAL_RANK });
  }
  return out;
}

/** Grid steps in degrees, from fine to coarse. */
const STEPS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];

/** A latitude or longitude in the view's words: 北纬 30.75° / 30.75°N. */
export function coordinateLabel(value, axis, digits, lang) {
  const v = Math.abs(value).toFixed(digits);
  const [pos, neg] = axis === 'lat' ? (lang === 'zh' ? ['北纬', '南纬'] : ['N', 'S']) : lang === 'zh' ? ['东经', '西经'] : ['E', 'W'];
  const hemi = value >= 0 ? pos : neg;
  if (Number(v) === 0) return `${v}°`;
  return lang === 'zh' ? `${hemi}${v}°` : `${v}°${hemi}`;
}

/** The latitude/longitude grid of the view: lines every step degrees, labelled at the west and south edges. */
function drawGrid(map, group, lang) {
  group.clearLayers();
  const b = map.getBounds();
  const span = Math.max(b.getNorth() - b.getSouth(), b.getEast() - b.getWest());
  const step = STEPS.find((s) => span / s <= 8) ?? STEPS[STEPS.length - 1];
  const digits = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const south = Math.max(-85, b.getSouth());
  const north = Math.min(85, b.getNorth());
  const west = b.getWest();
  const east = b.getEast();
  const style = { color: '#2a3d57', weight: 1, interactive: false };
  // Labels just inside the west and south edges (the anchor puts the text right of and above its point).
  const label = (latlng, text, cls) => L.marker(latlng, { interactive: false, keyboard: false, icon: L.divIcon({ className: `hw-grid-label ${cls}`, html: text, iconSize: null, iconAnchor: [-4, 15] }) }).addTo(group);
  for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
    L.polyline([[lat, west], [lat, east]], style).addTo(group);
    label([lat, west], coordinateLabel(lat, 'lat', digits, lang), 'lat');
  }
  for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
    L.polyline([[south, lon], [north, lon]], style).addTo(group);
    label([south, lon], coordinateLabel(lon, 'lon', digits, lang), 'lon');
  }
}

function markerHtml(p, t) {
  switch (p.type) {
    case 'enterprise':
      return `<div class="hw-ent" style="border-color:${p.hex};color:${p.hex}">${svgString(icon.factory)}</div><div class="hw-label">${escapeHtml(p.name)}</div>`;
    case 'source':
      return `<div class="hw-src${p.active ? ' active' : ''}" style="background:${p.hex}">${p.grade}</div><div class="hw-label">${escapeHtml(p.name)}</div>`;
    case 'device':
      return `<div class="hw-dev" style="background:${p.hex}"></div>`;
    case 'danger':
      return `<div class="hw-dgr" style="background:${p.hex}">!</div><div class="hw-label">${escapeHtml(p.name)}</div>`;
    default:
      return `<div class="hw-res">${svgString(icon.resource[p.kind] ?? icon.dot)}</div>`;
  }
}

// The icons are Preact vnodes; a marker's HTML is a string: render each once into a detached node.
const svgCache = new Map();
function svgString(fn) {
  if (!svgCache.has(fn)) {
    const el = document.createElement('span');
    render(fn(), el);
    svgCache.set(fn, el.innerHTML);
  }
  return svgCache.get(fn);
}
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const SIZE = { enterprise: [30, 30], source: [28, 28], device: [12, 12], resource: [24, 24], danger: [24, 24] };

/**
 * The map. `onPick(properties)` when a point is clicked; `onCluster(leaves)` when a cluster that
 * cannot be split further (points at one place) is clicked.
 */
export function GeoMap({ t, lang, overview, devices, resources, dangers, alarms, mode, layers, tiles, onPick, onCluster }) {
  const el = useRef();
  const state = useRef({});
  // The latest handlers, for markers drawn earlier.
  const handlers = useRef({});
  handlers.current = { onPick, onCluster };
  const maxZoom = tiles?.tileUrl ? (tiles.tileMaxZoom ?? 18) : 18;

  // The map itself, once.
  useEffect(() => {
    const map = L.map(el.current, { attributionControl: false, zoomControl: false, minZoom: 3, maxZoom, worldCopyJump: true, zoomSnap: 1 });
    if (tiles?.tileUrl) {
      L.tileLayer(tiles.tileUrl, { maxZoom, attribution: tiles.tileAttribution || undefined }).addTo(map);
      if (tiles.tileAttribution) L.control.attribution({ prefix: false }).addAttribution(tiles.tileAttribution).addTo(map);
    }
    // The grid's labels run along the west and south edges: the zoom buttons go to the north-east.
    L.control.zoom({ position: 'topright', zoomInTitle: t.zoomIn, zoomOutTitle: t.zoomOut }).addTo(map);
    const grid = L.layerGroup().addTo(map);
    const markers = L.layerGroup().addTo(map);
    state.current = { map, grid, markers, fitted: false };
    // For tests and the curious: the Leaflet map of this element.
    el.current.hwMap = map;
    map.setView([30.75, 121.25], 12);
    const redraw = () => state.current.draw?.();
    map.on('moveend', redraw);
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(el.current);
    return () => {
      resize.disconnect();
      map.off();
      state.current = {};
      map.remove();
    };
  }, []);

  const features = useMemo(() => mapFeatures({ overview, devices, resources, dangers, alarms, mode, layers }), [overview, devices, resources, dangers, alarms, mode, layers]);
  // Three indexes, each gathering only its own kind: a hazard source never disappears into a cluster
  // of warehouses or detectors at the park's zoom, while a province of them still gathers.
  const index = useMemo(() => {
    const group = (f) => (f.properties.type === 'resource' ? 'resources' : f.properties.type === 'device' ? 'devices' : f.properties.type === 'danger' ? 'dangers' : 'plant');
    return ['plant', 'devices', 'resources', 'dangers'].map((g) => {
      const sc = new Supercluster({
        radius: 56,
        // Points stay gathered up to two levels below the deepest zoom; there each shows on its own.
        maxZoom: maxZoom - 2,
        map: (p) => ({ rank: p.rank }),
        reduce: (acc, p) => {
          acc.rank = Math.min(acc.rank, p.rank);
        },
      });
      sc.load(features.filter((f) => group(f) === g));
      return sc;
    });
  }, [features, maxZoom]);

  useEffect(() => {
    const s = state.current;
    if (!s.map) return;
    s.draw = () => {
      const { map, markers, grid } = s;
      if (state.current !== s || !el.current) return;
      if (!tiles?.tileUrl) drawGrid(map, grid, lang);
      markers.clearLayers();
      const b = map.getBounds();
      const zoom = Math.round(map.getZoom());
      const bbox = [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())];
      for (const [sc, f] of index.flatMap((sc) => sc.getClusters(bbox, zoom).map((f) => [sc, f]))) {
        const [lon, lat] = f.geometry.coordinates;
        const p = f.properties;
        let marker;
        if (p.cluster) {
          const count = p.point_count;
          const hex = p.rank <= 4 ? (mode === 'risk' ? Object.values(RISK_HEX)[p.rank - 1] : LEVEL_HEX[p.rank]) : p.rank === 5 ? GREY : p.rank === 6 ? OK : RESOURCE_HEX;
          const size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48;
          marker = L.marker([lat, lon], {
            keyboard: false,
            title: t.mapCluster(count),
            icon: L.divIcon({ className: 'hw-mk hw-cluster', html: `<div style="border-color:${hex}">${p.point_count_abbreviated}</div>`, iconSize: [size, size] }),
          });
          marker.on('click', () => {
            const next = sc.getClusterExpansionZoom(p.cluster_id);
            if (next <= map.getMaxZoom() && next > zoom) map.flyTo([lat, lon], next, { duration: 0.4 });
            else handlers.current.onCluster?.(sc.getLeaves(p.cluster_id, 200).map((l) => l.properties));
          });
          marker.addTo(markers);
          Object.assign(marker.getElement().dataset, { cluster: String(count), rank: String(p.rank) });
        } else {
          const [w, hgt] = SIZE[p.type] ?? [20, 20];
          marker = L.marker([lat, lon], {
            keyboard: false,
            riseOnHover: true,
            title: p.name,
            zIndexOffset: p.type === 'danger' ? 600 : p.type === 'source' ? 400 : p.type === 'enterprise' ? 200 : 0,
            icon: L.divIcon({ className: `hw-mk hw-${p.type}`, html: markerHtml(p, t), iconSize: [w, hgt] }),
          });
          marker.on('click', () => handlers.current.onPick?.(p));
          marker.addTo(markers);
          const data = marker.getElement().dataset;
          Object.assign(data, { type: p.type, key: p.key, colour: p.colour, lat: String(lat), lon: String(lon) });
          if (p.type === 'source') data.source = p.key;
          if (p.type === 'enterprise') data.enterprise = p.key;
          if (p.type === 'device') data.device = p.key;
          if (p.type === 'resource') Object.assign(data, { resource: p.key, kind: p.kind });
          if (p.type === 'danger') data.danger = p.key;
        }
      }
      el.current.dataset.markers = String(markers.getLayers().length);
    };
    // The first time there is something to show: fit the view to the plant (else the resources).
    if (!s.fitted && overview) {
      const pts = features.filter((f) => f.properties.type !== 'resource' && f.properties.type !== 'device');
      const use = pts.length ? pts : features;
      if (use.length) {
        const bounds = L.latLngBounds(use.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
        s.map.fitBounds(bounds.pad(0.25), { maxZoom: 15, animate: false });
        s.fitted = true;
      }
    }
    s.draw();
  }, [index, lang, mode, t]);

  return html`<div class="hw-map" ref=${el} data-testid="geo-map" role="region" aria-label=${t.overview}></div>`;
}
