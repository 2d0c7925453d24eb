// Geographic positions (WGS-84 latitude and longitude in decimal degrees) of enterprises, hazard
// sources, devices and emergency resources, for the console's map and the nearest-resource search.
// Optional everywhere: a site known only on the schematic plan has none.
import { HazwatchError } from '../contract/errors.ts';

export interface LatLon {
  lat: number;
  lon: number;
}

/** Mean Earth radius (IUGG), km: the great-circle distances are good to about 0.5 %. */
export const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km between two positions (haversine). */
export function distanceKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function isLatitude(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= -90 && v <= 90;
}

export function isLongitude(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= -180 && v <= 180;
}

/**
 * Both or neither: a latitude without its longitude is a mistake, not half a position. `null` for
 * both clears the position. Throws HW_ERR_VALIDATION naming the field (`prefix` + lat / lon).
 */
export function checkLatLon(lat: unknown, lon: unknown, prefix = ''): LatLon | null {
  if ((lat === null || lat === undefined) && (lon === null || lon === undefined)) return null;
  if (lat === null || lat === undefined) throw new HazwatchError('HW_ERR_VALIDATION', `${prefix}lat: a longitude needs its latitude`, { field: `${prefix}lat` });
  if (lon === null || lon === undefined) throw new HazwatchError('HW_ERR_VALIDATION', `${prefix}lon: a latitude needs its longitude`, { field: `${prefix}lon` });
  if (!isLatitude(lat)) throw new HazwatchError('HW_ERR_VALIDATION', `${prefix}lat: ${JSON.stringify(lat)} is not a latitude (decimal degrees, -90 to 90)`, { field: `${prefix}lat` });
  if (!isLongitude(lon)) throw new HazwatchError('HW_ERR_VALIDATION', `${prefix}lon: ${JSON.stringify(lon)} is not a longitude (decimal degrees, -180 to 180)`, { field: `${prefix}lon` });
  return { lat, lon };
}

/** A device's own position: `meta.lat` and `meta.lon` (the registry's convention for attributes). */
export function devicePosition(meta: Record<string, unknown>): LatLon | null {
  return isLatitude(meta.lat) && isLongitude(meta.lon) ? { lat: meta.lat, lon: meta.lon } : null;
}
